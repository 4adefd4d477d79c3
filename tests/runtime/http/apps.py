"""The app the HTTP tests serve with `durable serve tests.runtime.http.apps:app`."""

from __future__ import annotations

import time
from typing import Any

import durableflow as df

app = df.App()


@app.activity
def double(x: int) -> int:
    return 2 * x


@app.activity
def boom(x: Any) -> Any:
    raise ValueError(f"boom on {x!r}")


@app.activity
def slow_double(x: int) -> int:
    # The work in flight when the shutdown tests send SIGTERM.
    time.sleep(1.0)
    return 2 * x


@app.orchestrator
def chain(ctx: df.OrchestrationContext, n: int) -> Any:
    a = yield ctx.call_activity(double, n)
    b = yield ctx.call_activity(double, a)
    return b


@app.orchestrator
def approval(ctx: df.OrchestrationContext, _: Any) -> Any:
    ctx.set_custom_status("waiting for approve")
    answer = yield ctx.wait_for_external_event("approve")
    doubled = yield ctx.call_activity(double, 21)
    return {"answer": answer, "doubled": doubled}


@app.orchestrator
def fails(ctx: df.OrchestrationContext, x: Any) -> Any:
    return (yield ctx.call_activity(boom, x))


@app.orchestrator
def slow_chain(ctx: df.OrchestrationContext, n: int) -> Any:
    a = yield ctx.call_activity(slow_double, n)
    b = yield ctx.call_activity(slow_double, a)
    return b


@app.orchestrator
def outside_subset(ctx: df.OrchestrationContext, items: list[int]) -> Any:
    pick = lambda x: -x  # noqa: E731 - a lambda is outside the compiled subset on purpose
    ordered = sorted(items, key=pick)
    return (yield ctx.call_activity(double, ordered[0]))
