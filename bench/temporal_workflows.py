"""The Temporal side of bench/fuzz_throughput.py: the same two workflows as Temporal code.

They live in a module of their own, with nothing else in it, because Temporal's sandbox
re-imports the module that defines a workflow and refuses anything non-deterministic at
import time (a path resolved from ``__file__``, for one).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

CHAIN_LENGTH = 10
FAN_OUT = 20
_TIMEOUT = timedelta(seconds=30)


@activity.defn
async def inc(value: int) -> int:
    """The activity both workflows call."""
    return value + 1


@workflow.defn
class Chain:
    """Ten activities one after another, each fed the previous result."""

    @workflow.run
    async def run(self, value: int) -> int:
        for _ in range(CHAIN_LENGTH):
            value = await workflow.execute_activity(inc, value, start_to_close_timeout=_TIMEOUT)
        return value


@workflow.defn
class FanOut:
    """Twenty activities at once, then their sum."""

    @workflow.run
    async def run(self, value: int) -> int:
        results = await asyncio.gather(
            *(
                workflow.execute_activity(inc, value + i, start_to_close_timeout=_TIMEOUT)
                for i in range(FAN_OUT)
            )
        )
        return sum(results)


WORKFLOWS = {"chain": Chain, "fan_out": FanOut}
