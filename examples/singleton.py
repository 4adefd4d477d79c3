"""Singleton: a background job that runs at most once at a time, under a fixed instance id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {"nightly_cleanup": [3, 0]}

JOB_ID = "nightly-cleanup"


@app.activity
def cleanup(batch: int) -> int:
    """Delete one batch of expired rows; returns how many went."""
    return 100 * batch


@app.orchestrator
def nightly_cleanup(ctx: df.OrchestrationContext, batches: int) -> Any:
    """Clean ``batches`` batches one after another, pausing a minute between them."""
    removed = 0
    for batch in range(batches):
        count = yield ctx.call_activity(cleanup, batch)
        removed += count
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=1))
    return removed


def start_singleton(client: df.Client, batches: int) -> str | None:
    """Start the job unless one is already running; returns the id, or None if running."""
    try:
        return client.start_new(nightly_cleanup, input=batches, instance_id=JOB_ID)
    except df.InstanceAlreadyExistsError:
        return None


def main(store: str = "sqlite:///demo-out/singleton.db") -> Any:
    """Start the singleton twice while it runs (second is refused), then again after.

    A fake clock skips the one-minute pauses.
    """
    from durableflow.testing.drive import drive_to_completion

    with df.Runtime(app, store, clock=df.FakeClock()) as rt:
        first = start_singleton(rt.client, 3)
        second = start_singleton(rt.client, 3)
        output = drive_to_completion(rt, JOB_ID).output
        third = start_singleton(rt.client, 1)
        rerun = drive_to_completion(rt, JOB_ID).output
        return {
            "first": first,
            "second_refused": second is None,
            "output": output,
            "restarted": third,
            "rerun_output": rerun,
        }


if __name__ == "__main__":
    print(main())
