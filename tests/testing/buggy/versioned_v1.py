"""Version 1 of an order workflow, as deployed: charge, then ship."""

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
def ship(order: dict[str, Any]) -> str:
    """Ship the parcel."""
    return f"shipped {order['id']}"


@app.orchestrator
def fulfil(ctx: df.OrchestrationContext, order: dict[str, Any]) -> Any:
    """Charge, then ship."""
    payment = yield ctx.call_activity(charge, order)
    parcel = yield ctx.call_activity(ship, order)
    return [payment, parcel]
