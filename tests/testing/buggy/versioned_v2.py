"""Version 2: a fraud check inserted between charge and ship, under the same name, so
instances charged by version 1 break when they replay (the bug)."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"fulfil": [{"id": "o7"}]}


@app.activity
def charge(order: dict[str, Any]) -> str:
    """Take the payment."""
    return f"charged {order['id']}"


@app.activity
def fraud_check(order: dict[str, Any]) -> bool:
    """Score the order."""
    return True


@app.activity
def ship(order: dict[str, Any]) -> str:
    """Ship the parcel."""
    return f"shipped {order['id']}"


@app.orchestrator
def fulfil(ctx: df.OrchestrationContext, order: dict[str, Any]) -> Any:
    """Charge, check for fraud, then ship."""
    payment = yield ctx.call_activity(charge, order)
    yield ctx.call_activity(fraud_check, order)
    parcel = yield ctx.call_activity(ship, order)
    return [payment, parcel]
