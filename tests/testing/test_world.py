"""The simulated world: sources, tapes, crashes, and what the tracing replayer records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df
from durableflow.core import history as h
from durableflow.testing.tape import Tape
from durableflow.testing.world import RandomSource, simulate


def chain(ctx: df.OrchestrationContext, n: int) -> Any:
    total = 0
    for i in range(n):
        total += yield ctx.call_activity("add", i)
    return total


def race(ctx: df.OrchestrationContext, _: Any) -> Any:
    timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=72))
    event = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return "approved"
    return "escalated"


def test_the_same_seed_gives_the_same_run() -> None:
    a = simulate(chain, 5, RandomSource(7))
    b = simulate(chain, 5, RandomSource(7))
    assert a.history == b.history and a.output == b.output


def test_a_tape_replays_the_run_it_was_recorded_from() -> None:
    first = simulate(race, None, RandomSource(3, failure_rate=0.0), discover_events=True)
    again = simulate(race, None, Tape(first.tape), discover_events=True)
    assert again.history == first.history
    assert again.output == first.output


def test_a_timer_fires_at_its_due_time_however_far_ahead() -> None:
    # The only thing that can happen is the 72-hour timer: no event names are known.
    run = simulate(race, None, RandomSource(1))
    fired = [e for e in run.history if isinstance(e, h.TimerFired)]
    assert run.output == "escalated"
    assert fired[0].timestamp - run.history[0].timestamp == timedelta(hours=72)


def test_a_crash_before_every_step_replays_to_the_same_history() -> None:
    class CrashEveryStep(RandomSource):
        def flag(self, what: str) -> bool:
            return what == "crash"

    clean = simulate(chain, 4, RandomSource(5, failure_rate=0.0))
    crashed = simulate(chain, 4, Tape(clean.tape, flags=CrashEveryStep(0)))
    assert crashed.crashes == list(range(4))
    assert crashed.history == clean.history


def test_a_duplicate_result_is_dropped_and_the_first_one_counts() -> None:
    class DuplicateAll(RandomSource):
        def flag(self, what: str) -> bool:
            return what == "duplicate"

    clean = simulate(chain, 3, RandomSource(2, failure_rate=0.0))
    doubled = simulate(chain, 3, Tape(clean.tape, flags=DuplicateAll(0)))
    assert doubled.history == clean.history


def test_the_tracing_replayer_records_creation_lines_and_yields() -> None:
    run = simulate(race, None, RandomSource(0), events=("Approval",))
    assert run.replayer is not None
    created = run.replayer.created
    assert [c.action.KIND for c in created] == ["timer"]
    assert created[0].where is not None and created[0].where.endswith(
        f":{race.__code__.co_firstlineno + 1}"
    )
    assert id(created[0].task) in run.replayer.reachable()
    assert run.replayer.awaited == ["Approval"]


def test_an_exhausted_step_budget_is_reported() -> None:
    def forever(ctx: df.OrchestrationContext, _: Any) -> Any:
        while True:
            yield ctx.create_timer(timedelta(minutes=1))

    run = simulate(forever, None, RandomSource(0), max_steps=10)
    assert run.exhausted and not run.stuck and run.step_count == 10
