"""Eternal orchestration: do a unit of work, sleep, and continue_as_new with fresh history.

``continue_as_new`` keeps the history short however long the instance lives. This demo stops
after a few generations so it ends; a real one would loop forever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {
    "periodic_refresh": [{"generation": 0, "last": 2}, {"generation": 2, "last": 2}]
}


@app.activity
def refresh_cache(generation: int) -> str:
    """The periodic work."""
    return f"refreshed #{generation}"


@app.orchestrator
def periodic_refresh(ctx: df.OrchestrationContext, state: dict[str, Any]) -> Any:
    """Refresh, wait an hour, and start over as a new generation."""
    generation = state["generation"]
    yield ctx.call_activity(refresh_cache, generation)
    if generation >= state["last"]:
        return {"generations": generation + 1}
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
    ctx.continue_as_new({"generation": generation + 1, "last": state["last"]})
    return None


def main(store: str = "sqlite:///demo-out/eternal.db") -> Any:
    """Run five generations, an hour apart on a fake clock."""
    from durableflow.testing.drive import drive_to_completion

    with df.Runtime(app, store, clock=df.FakeClock()) as rt:
        iid = rt.client.start_new(periodic_refresh, input={"generation": 0, "last": 4})
        state = drive_to_completion(rt, iid)
        history = rt.client.get_history(iid).events
        return {"output": state.output, "events_in_last_generation": len(history)}


if __name__ == "__main__":
    print(main())
