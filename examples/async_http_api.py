"""Async HTTP API: a long-running job that clients start and then poll for status.

Clients start the orchestration (an HTTP front answers 202 with a status URL), then poll
``get_status``: ``custom_status`` reports progress while it runs, ``output`` holds the result.
"""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {"process_order": [{"id": 1, "amount": 10}]}


@app.activity
def validate_order(order: dict[str, Any]) -> bool:
    """Check the order is well formed."""
    return bool(order.get("items")) and order.get("customer") is not None


@app.activity
def charge(order: dict[str, Any]) -> str:
    """Charge the customer; returns a receipt id."""
    return f"rcpt-{order['customer']}-{len(order['items'])}"


@app.activity
def ship(order: dict[str, Any]) -> str:
    """Hand the order to shipping; returns a tracking number."""
    return f"trk-{order['customer']}"


@app.orchestrator
def process_order(ctx: df.OrchestrationContext, order: dict[str, Any]) -> Any:
    """Validate, charge and ship an order, publishing progress as custom status."""
    ctx.set_custom_status({"stage": "validating"})
    valid = yield ctx.call_activity(validate_order, order)
    if not valid:
        ctx.set_custom_status({"stage": "rejected"})
        return {"accepted": False}
    ctx.set_custom_status({"stage": "charging"})
    receipt = yield ctx.call_activity(charge, order)
    ctx.set_custom_status({"stage": "shipping"})
    tracking = yield ctx.call_activity(ship, order)
    ctx.set_custom_status({"stage": "done"})
    return {"accepted": True, "receipt": receipt, "tracking": tracking}


def main(store: str = "sqlite:///demo-out/async_http_api.db") -> Any:
    """Start an order the way the HTTP front would, poll it, and return its output."""
    with df.Runtime(app, store) as rt:
        iid = rt.client.start_new(
            "process_order", input={"customer": "ada", "items": ["book", "lamp"]}
        )
        state = rt.client.wait_for_completion(iid, timeout=30)
        return {"output": state.output, "custom_status": state.custom_status}


if __name__ == "__main__":
    print(main())
