"""continue_as_new, both yielded and not, with a timer between generations."""
from datetime import timedelta

import durableflow as df

app = df.App()
INTERVAL = timedelta(minutes=30)

INPUTS = [{"gen": 0}, {"gen": 3}]


@app.orchestrator(name="eternal_refresh")
def eternal(ctx: df.OrchestrationContext, state):
    gen = state["gen"]
    yield ctx.call_activity("refresh", gen)
    if gen >= 3:
        return gen
    yield ctx.create_timer(ctx.current_utc_datetime + INTERVAL)
    if gen == 1:
        yield ctx.continue_as_new({"gen": gen + 2})
    ctx.continue_as_new({"gen": gen + 1})
    return None
