"""The app that crash-safety and multi-worker tests run in worker subprocesses."""

from __future__ import annotations

import time
from typing import Any

import durableflow as df

app = df.App()

CHAIN_LENGTH = 50


def mix(x: int) -> int:
    """The chain's per-step function (pure, so the expected output can be computed)."""
    return (x * 31 + 7) % 1_000_003


@app.activity
def step(x: int) -> int:
    """One chain step; the pause stands for real work and widens the window for kills."""
    time.sleep(0.02)
    return mix(x)


@app.orchestrator
def chain(ctx: df.OrchestrationContext, seed: int) -> Any:
    """``CHAIN_LENGTH`` activities in sequence."""
    x = seed
    for _ in range(CHAIN_LENGTH):
        x = yield ctx.call_activity(step, x)
    return x


@app.activity
def work(x: int) -> int:
    """Fan-out work item."""
    return x * x


@app.orchestrator
def fan_out(ctx: df.OrchestrationContext, n: int) -> Any:
    """``n`` activities in parallel, then their sum."""
    results = yield ctx.task_all([ctx.call_activity(work, i) for i in range(n)])
    return sum(results)


def expected_chain(seed: int) -> int:
    """What ``chain`` returns for ``seed``."""
    x = seed
    for _ in range(CHAIN_LENGTH):
        x = mix(x)
    return x
