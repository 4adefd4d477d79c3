"""Bug: the audit entry is "fire and forget": created, never yielded."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"approve_refund": [{"id": "r9", "amount": 12}]}


@app.activity
def write_audit(entry: dict[str, Any]) -> bool:
    """Append to the audit log."""
    return True


@app.activity
def refund(request: dict[str, Any]) -> str:
    """Pay the money back."""
    return f"refunded {request['amount']}"


@app.orchestrator
def approve_refund(ctx: df.OrchestrationContext, request: dict[str, Any]) -> Any:
    """Audit the refund (in the background) and pay it."""
    ctx.call_activity(write_audit, {"refund": request["id"]})
    return (yield ctx.call_activity(refund, request))
