"""The workload of ``http_load.py`` for durableflow: a chain of three no-op activities,
served with ``durable serve http_load_apps:app`` (run from ``bench/``)."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()


@app.activity
def noop(x: int) -> int:
    """Does nothing; the bench measures the runtime and the HTTP front, not the work."""
    return x


@app.orchestrator
def three_steps(ctx: df.OrchestrationContext, n: Any) -> Any:
    """Three activities in a row."""
    a = yield ctx.call_activity(noop, 1)
    b = yield ctx.call_activity(noop, a + 1)
    c = yield ctx.call_activity(noop, b + 1)
    return c
