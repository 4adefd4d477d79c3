"""Sub-orchestrations: a parent runs one child orchestration per device, in parallel."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {
    "provision_device": ["dev-1"],
    "provision_fleet": [["a", "b"], []],
}


@app.activity
def create_identity(device: str) -> str:
    """Register the device with the identity service."""
    return f"id-{device}"


@app.activity
def push_config(identity: str) -> str:
    """Send the device its configuration."""
    return f"configured {identity}"


@app.orchestrator
def provision_device(ctx: df.OrchestrationContext, device: str) -> Any:
    """The child: provision one device in two steps."""
    identity = yield ctx.call_activity(create_identity, device)
    result = yield ctx.call_activity(push_config, identity)
    return result


@app.orchestrator
def provision_fleet(ctx: df.OrchestrationContext, devices: list[str]) -> Any:
    """The parent: one child orchestration per device, then a summary."""
    children = [ctx.call_sub_orchestrator(provision_device, d) for d in devices]
    results = yield ctx.task_all(children)
    return {"provisioned": len(results), "results": results}


def main(store: str = "sqlite:///demo-out/sub_orchestrations.db") -> Any:
    """Provision three devices."""
    with df.Runtime(app, store) as rt:
        iid = rt.client.start_new(provision_fleet, input=["dev-a", "dev-b", "dev-c"])
        return rt.client.wait_for_completion(iid, timeout=30).output


if __name__ == "__main__":
    print(main())
