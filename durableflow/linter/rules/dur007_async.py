"""DUR007: async code."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import BannedApiRule, Hit, RuleContext, orchestrator_example

__all__ = ["AsyncCode"]


class AsyncCode(BannedApiRule):
    """``async def`` orchestrators, ``await``, ``async for``/``async with`` and asyncio/anyio/trio.

    Orchestrators are generators: the runtime drives them by sending results into ``yield``, and
    replays them by doing so from history. An event loop schedules coroutines in its own order and
    on its own clock, outside the history. Use ``yield`` on durable tasks, and ``ctx.task_all`` /
    ``ctx.task_any`` to run work concurrently.
    """

    CODE = "DUR007"
    NAME = "async"
    MESSAGE = "async code runs outside replay; yield durable tasks (`ctx.task_all` for concurrency)"
    VALID = (
        orchestrator_example(
            'tasks = [ctx.call_activity("work", x) for x in data]\n'
            "results = yield ctx.task_all(tasks)\nreturn results"
        ),
    )
    INVALID = (
        "import durableflow as df\n\napp = df.App()\n\n\n@app.orchestrator\n"
        "async def orch(ctx, data):\n    return data\n",
        orchestrator_example(
            "return asyncio.run(fetch(data))", "import asyncio", "def fetch(x):\n    return x"
        ),
        orchestrator_example(
            'def inner():\n    return 1\n\nyield ctx.call_activity("a", inner())\n'
            "return anyio.run(inner)",
            "import anyio",
        ),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report async syntax and the async libraries."""
        for node in facts.awaits:
            if isinstance(node, cst.FunctionDef):
                what = "`async def` orchestrator" if node is facts.node else "`async def`"
                yield Hit(node.name, f"{what} cannot be replayed; " + _FIX)
            elif isinstance(node, cst.Await):
                yield Hit(node, "`await` runs outside the orchestration's history; " + _FIX)
            else:
                yield Hit(node, "`async for`/`async with` needs an event loop; " + _FIX)
        yield from super().check(facts, context)


_FIX = "use `yield` on durable tasks (`ctx.task_all`/`ctx.task_any` for concurrency)"
