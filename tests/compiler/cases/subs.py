"""Sub-orchestrations with explicit instance ids and retries; a generator with no input use."""
from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = ["dev-1", "dev-2"]


@app.orchestrator
def child(ctx: df.OrchestrationContext, device):
    identity = yield ctx.call_activity("create_identity", device)
    return identity


@app.orchestrator
def parent(ctx: df.OrchestrationContext, device):
    first = yield ctx.call_sub_orchestrator(child, device, instance_id="child-" + device)
    second = yield ctx.call_sub_orchestrator(
        "child", device, retry=df.RetryPolicy(first_interval=timedelta(seconds=5), max_attempts=2)
    )
    return [first, second]
