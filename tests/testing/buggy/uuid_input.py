"""Bug: the payment's idempotency key is a fresh uuid4 on every replay (via a helper)."""

from __future__ import annotations

from typing import Any

import durableflow as df
from tests.testing.buggy.support import request_id

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"checkout": [{"cart": "c1", "amount": 30}]}


@app.activity
def charge_card(payment: dict[str, Any]) -> str:
    """Charge the customer once per idempotency key."""
    return f"charged {payment['amount']}"


@app.activity
def send_receipt(charge: str) -> bool:
    """E-mail the receipt."""
    return True


@app.orchestrator
def checkout(ctx: df.OrchestrationContext, cart: dict[str, Any]) -> Any:
    """Charge the card with an idempotency key, then send the receipt."""
    charge = yield ctx.call_activity(charge_card, {"key": request_id(), "amount": cart["amount"]})
    yield ctx.call_activity(send_receipt, charge)
    return charge
