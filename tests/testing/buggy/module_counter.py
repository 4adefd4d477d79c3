"""Bug: "remind each customer once" kept in a module-level dict (via a helper)."""

from __future__ import annotations

from typing import Any

import durableflow as df
from tests.testing.buggy.support import first_reminder

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"invoice_reminder": ["acme"]}


@app.activity
def issue_invoice(customer: str) -> str:
    """Create the invoice."""
    return f"invoice for {customer}"


@app.activity
def send_reminder(customer: str) -> bool:
    """Nudge the customer."""
    return True


@app.orchestrator
def invoice_reminder(ctx: df.OrchestrationContext, customer: str) -> Any:
    """Issue an invoice; remind the customer the first time only."""
    invoice = yield ctx.call_activity(issue_invoice, customer)
    if first_reminder(customer):
        yield ctx.call_activity(send_reminder, customer)
    return invoice
