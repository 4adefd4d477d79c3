"""Singleton: a background job that runs at most once at a time, under a fixed instance id."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()

JOB_ID = "nightly-cleanup"


@app.activity
def cleanup(batch: int) -> int:
    """Delete one batch of expired rows; returns how many went."""
    return 100 * batch


@app.orchestrator
def nightly_cleanup(ctx: df.OrchestrationContext, batches: int) -> Any:
    """Clean ``batches`` batches one after another."""
    removed = 0
    for batch in range(batches):
        count = yield ctx.call_activity(cleanup, batch)
        removed += count
    return removed


def start_singleton(client: df.Client, batches: int) -> str | None:
    """Start the job unless one is already running; returns the id, or None if running."""
    try:
        return client.start_new(nightly_cleanup, input=batches, instance_id=JOB_ID)
    except df.InstanceAlreadyExistsError:
        return None


def main(store: str = "sqlite:///demo-out/singleton.db") -> Any:
    """Start the singleton twice while it runs (second is refused), then again after."""
    with df.Runtime(app, store) as rt:
        first = start_singleton(rt.client, 3)
        second = start_singleton(rt.client, 3)
        output = rt.client.wait_for_completion(JOB_ID, timeout=30).output
        third = start_singleton(rt.client, 1)
        rerun = rt.client.wait_for_completion(JOB_ID, timeout=30).output
        return {
            "first": first,
            "second_refused": second is None,
            "output": output,
            "restarted": third,
            "rerun_output": rerun,
        }


if __name__ == "__main__":
    print(main())
