"""Fan-out/fan-in: run activities in parallel and aggregate their results."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {"fan_out_fan_in": [[1, 2, 3], []]}


@app.activity
def process(item: int) -> int:
    """The per-item work."""
    return item * 2


@app.activity
def report(total: int) -> str:
    """Publish the aggregate."""
    return f"total={total}"


@app.orchestrator
def fan_out_fan_in(ctx: df.OrchestrationContext, items: list[int]) -> Any:
    """Double every item in parallel, report and return the sum."""
    tasks = [ctx.call_activity(process, x) for x in items]
    results = yield ctx.task_all(tasks)
    total = sum(results)
    yield ctx.call_activity("report", total)
    return total


def main(store: str = "sqlite:///demo-out/fan_out_fan_in.db") -> Any:
    """Run one instance over 1..10 and return its output."""
    with df.Runtime(app, store) as rt:
        iid = rt.client.start_new("fan_out_fan_in", input=list(range(1, 11)))
        return rt.client.wait_for_completion(iid, timeout=30).output


if __name__ == "__main__":
    print(main())
