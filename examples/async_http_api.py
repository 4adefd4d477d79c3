"""Async HTTP API: a long-running job that clients start over HTTP and then poll.

Serve it with the worker embedded::

    durable serve examples.async_http_api:app --store sqlite:///orders.db

A client POSTs the order to ``/api/orchestrators/process_order`` and gets 202 with a
``Location`` header (the status URL) and ``Retry-After``; it polls the status URL, which
answers 202 with ``customStatus`` (the stage) while the order is processed and 200 with the
``output`` once it is done. ``main`` does exactly that against an in-process server.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
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
    """Serve the app over HTTP, start an order as a client would, poll it, return its output."""
    import uvicorn

    from durableflow.runtime.http import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runtime = df.Runtime(app, store)
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime, manage_runtime=True), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        order = {"customer": "ada", "items": ["book", "lamp"]}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/orchestrators/process_order",
            data=json.dumps(order).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request) as started:
            assert started.status == 202
            status_url = started.headers["Location"]
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(status_url) as polled:
                status = json.load(polled)
                if polled.status == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"order still {status['runtimeStatus']} after 30 s")
            # A real client waits the Retry-After seconds; the demo polls faster.
            time.sleep(0.05)
        return {"output": status["output"], "custom_status": status["customStatus"]}
    finally:
        server.should_exit = True
        thread.join(60)


if __name__ == "__main__":
    print(main())
