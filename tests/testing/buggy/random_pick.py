"""Bug: the warehouse is picked at random in the orchestrator (via a helper)."""

from __future__ import annotations

from typing import Any

import durableflow as df
from tests.testing.buggy.support import nearest_warehouse

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"ship_order": [{"id": "o1", "items": ["a", "b"]}]}


@app.activity
def reserve_stock(request: dict[str, Any]) -> str:
    """Reserve the items in a warehouse."""
    return f"reserved in {request['warehouse']}"


@app.activity
def ship(order_id: str) -> str:
    """Hand the parcel to the carrier."""
    return f"shipped {order_id}"


@app.orchestrator
def ship_order(ctx: df.OrchestrationContext, order: dict[str, Any]) -> Any:
    """Reserve stock in the nearest warehouse, then ship."""
    warehouse = nearest_warehouse(order["items"])
    reservation = yield ctx.call_activity(
        reserve_stock, {"warehouse": warehouse, "items": order["items"]}
    )
    tracking = yield ctx.call_activity(ship, order["id"])
    return {"reservation": reservation, "tracking": tracking}
