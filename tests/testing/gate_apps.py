"""Two releases of an order workflow: the second inserts an activity between two others."""

from __future__ import annotations

from typing import Any

import durableflow as df


def _activities(app: df.App) -> None:
    for name in ("reserve", "charge", "audit", "ship"):
        app.activity(name=name)(lambda x: f"{x}+")


v1 = df.App()
_activities(v1)


@v1.orchestrator(name="order_flow")
def order_flow_v1(ctx: df.OrchestrationContext, order: str) -> Any:
    """Reserve, wait for approval, charge, wait for packing, ship, wait for delivery."""
    reserved = yield ctx.call_activity("reserve", order)
    yield ctx.wait_for_external_event("approved")
    charged = yield ctx.call_activity("charge", reserved)
    yield ctx.wait_for_external_event("packed")
    shipped = yield ctx.call_activity("ship", charged)
    yield ctx.wait_for_external_event("delivered")
    return shipped


v2 = df.App()
_activities(v2)


@v2.orchestrator(name="order_flow")
def order_flow_v2(ctx: df.OrchestrationContext, order: str) -> Any:
    """As in v1, with an audit between charging and shipping."""
    reserved = yield ctx.call_activity("reserve", order)
    yield ctx.wait_for_external_event("approved")
    charged = yield ctx.call_activity("charge", reserved)
    yield ctx.call_activity("audit", charged)
    yield ctx.wait_for_external_event("packed")
    shipped = yield ctx.call_activity("ship", charged)
    yield ctx.wait_for_external_event("delivered")
    return shipped


v3 = df.App()
_activities(v3)


@v3.orchestrator(name="order_flow")
def order_flow_v3(ctx: df.OrchestrationContext, order: str) -> Any:
    """As in v1, but charging is given the order instead of the reservation."""
    yield ctx.call_activity("reserve", order)
    yield ctx.wait_for_external_event("approved")
    charged = yield ctx.call_activity("charge", order)
    yield ctx.wait_for_external_event("packed")
    shipped = yield ctx.call_activity("ship", charged)
    yield ctx.wait_for_external_event("delivered")
    return shipped


renamed = df.App()
_activities(renamed)


@renamed.orchestrator(name="order_flow_2")
def order_flow_renamed(ctx: df.OrchestrationContext, order: str) -> Any:
    """v1 deployed under a new name."""
    result = yield ctx.call_activity("reserve", order)
    return result
