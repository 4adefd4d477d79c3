"""The replay executor as a pure function: histories in, decisions out."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from durableflow.core import history as h
from durableflow.core.actions import CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.errors import EventTimeoutError, TaskFailedError
from durableflow.core.retry import RetryPolicy
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import OrchestrationContext, Replayer, replay
from tests.runtime.events import at, done, failed, fired, raised, started, step

Ctx = OrchestrationContext


class Run:
    """Feeds steps to the executor and keeps the growing history, like a worker would."""

    def __init__(self, fn: Any, input: Any = None) -> None:
        self.fn = fn
        self.history: list[h.HistoryEvent] = []
        self.last = self.feed(started(input=input))

    def feed(self, new: list[h.HistoryEvent]) -> Any:
        result = replay(self.fn, self.history, new)
        self.history += result.new_events
        self.last = result
        return result


def chain(ctx: Ctx, n: int) -> Any:
    a = yield ctx.call_activity("inc", n)
    b = yield ctx.call_activity("inc", a)
    return b


def test_first_step_schedules_first_activity() -> None:
    r = Run(chain, 1).last
    assert r.status is RuntimeStatus.RUNNING
    assert r.actions == [ScheduleActivity(0, "inc", 1)]


def test_chain_completes_with_last_result() -> None:
    run = Run(chain, 1)
    run.feed(step(1, done(0, 2)))
    r = run.feed(step(2, done(1, 3)))
    assert r.status is RuntimeStatus.COMPLETED and r.output == 3
    assert isinstance(run.history[-1], h.ExecutionCompleted)


def test_activity_called_by_function_uses_its_name() -> None:
    def double(x: int) -> int:
        return 2 * x

    def orch(ctx: Ctx, _: Any) -> Any:
        return (yield ctx.call_activity(double, 4))

    assert Run(orch).last.actions == [ScheduleActivity(0, "double", 4)]


def test_task_all_returns_results_in_order() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        return (yield ctx.task_all([ctx.call_activity("f", i) for i in range(3)]))

    run = Run(orch)
    assert [a.task_id for a in run.last.actions] == [0, 1, 2]
    run.feed(step(1, done(2, "c"), done(0, "a")))
    r = run.feed(step(2, done(1, "b")))
    assert r.output == ["a", "b", "c"]


def test_task_all_fails_on_first_failure() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        try:
            yield ctx.task_all([ctx.call_activity("f", i) for i in range(2)])
        except TaskFailedError as e:
            return [e.task_name, e.error_type, e.error_message]

    run = Run(orch)
    r = run.feed(step(1, failed(1, "KeyError", "nope")))
    assert r.output == ["f", "KeyError", "nope"]


def test_task_any_returns_winning_task() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        a, b = ctx.call_activity("a"), ctx.call_activity("b")
        winner = yield ctx.task_any([a, b])
        return [winner is b, winner.get_result()]

    run = Run(orch)
    assert run.feed(step(1, done(1, "B"))).output == [True, "B"]


def test_timer_blocks_until_fired_and_clock_follows_history() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=72))
        return ctx.current_utc_datetime.isoformat()

    run = Run(orch)
    assert run.last.actions == [CreateTimer(0, at(72 * 3600))]
    r = run.feed(step(72 * 3600, fired(0, 72 * 3600)))
    assert r.output == at(72 * 3600).isoformat()


def test_external_event_raised_before_wait_is_buffered() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=5))
        first = yield ctx.wait_for_external_event("go")
        second = yield ctx.wait_for_external_event("go")
        return [first, second]

    run = Run(orch)
    run.feed(step(1, raised("go", 1), raised("go", 2)))
    assert run.feed(step(5, fired(0, 5))).output == [1, 2]


def test_event_with_timeout_raises_when_timer_wins() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        try:
            yield ctx.wait_for_external_event("approve", timeout=timedelta(hours=1))
        except EventTimeoutError:
            return "escalated"
        return "approved"

    run = Run(orch)
    assert run.feed(step(3600, fired(0, 3600))).output == "escalated"


def test_event_with_timeout_cancels_timer_when_event_wins() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        v = yield ctx.wait_for_external_event("approve", timeout=timedelta(hours=1))
        yield ctx.call_activity("after", v)
        return v

    run = Run(orch)
    run.feed(step(10, raised("approve", "yes")))
    r = run.feed(step(3600, fired(0, 3600), done(1)))
    assert r.status is RuntimeStatus.COMPLETED and r.output == "yes"


def test_retry_waits_durable_timer_then_reschedules() -> None:
    policy = RetryPolicy(
        first_interval=timedelta(seconds=10), max_attempts=3, backoff_coefficient=2.0
    )

    def orch(ctx: Ctx, _: Any) -> Any:
        return (yield ctx.call_activity("flaky", 1, retry=policy))

    run = Run(orch)
    r = run.feed(step(1, failed(0)))
    assert r.actions == [CreateTimer(1, at(11))]
    r = run.feed(step(11, fired(1, 11)))
    assert r.actions == [ScheduleActivity(2, "flaky", 1)]
    r = run.feed(step(12, failed(2)))
    assert r.actions == [CreateTimer(3, at(12 + 20))]
    r = run.feed(step(32, fired(3, 32)))
    r = run.feed(step(33, done(4, "ok")))
    assert r.output == "ok"


def test_retry_exhausted_fails_with_original_error_details() -> None:
    policy = RetryPolicy(first_interval=timedelta(seconds=1), max_attempts=2)

    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.call_activity("flaky", retry=policy)

    run = Run(orch)
    run.feed(step(1, failed(0)))
    run.feed(step(2, fired(1, 2)))
    r = run.feed(step(3, failed(2, "IOError", "disk gone")))
    assert r.status is RuntimeStatus.FAILED
    assert r.failure.error_type == "durableflow.core.errors.TaskFailedError"
    assert "IOError: disk gone" in r.failure.message


def test_sub_orchestration_gets_deterministic_child_id() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        return (yield ctx.call_sub_orchestrator("child", 5))

    assert Run(orch).last.actions == [StartSubOrchestration(0, "child", "i1:0", 5)]


def test_continue_as_new_carries_unconsumed_events() -> None:
    def orch(ctx: Ctx, n: int) -> Any:
        yield ctx.create_timer(timedelta(seconds=1))
        ctx.continue_as_new(n + 1)

    run = Run(orch, 0)
    r = run.feed(step(1, raised("poke", "x"), fired(0, 1)))
    assert r.status is RuntimeStatus.CONTINUED_AS_NEW and r.continue_input == 1
    assert [(e.name, e.input) for e in r.carryover_events] == [("poke", "x")]
    assert isinstance(run.history[-1], h.ContinuedAsNew)


def test_suspended_instance_holds_events_until_resumed() -> None:
    run = Run(chain, 1)
    r = run.feed(step(1, h.ExecutionSuspended(timestamp=at(1)), done(0, 2)))
    assert r.status is RuntimeStatus.SUSPENDED and r.actions == []
    r = run.feed(step(2, h.ExecutionResumed(timestamp=at(2))))
    assert r.status is RuntimeStatus.RUNNING and r.actions == [ScheduleActivity(1, "inc", 2)]


def test_terminate_ends_instance_with_reason() -> None:
    run = Run(chain, 1)
    r = run.feed(step(1, h.ExecutionTerminated(timestamp=at(1), reason="stop")))
    assert r.status is RuntimeStatus.TERMINATED and r.output == "stop"


def test_changed_code_raises_nondeterminism_naming_both_actions_and_line() -> None:
    run = Run(chain, 1)
    run.feed(step(1, done(0, 2)))

    def changed(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        yield ctx.call_activity("dec", a)  # the changed line

    r = replay(changed, run.history, step(2, done(1, 3)))
    assert r.status is RuntimeStatus.FAILED
    msg = r.failure.message
    assert r.failure.error_type.endswith("NonDeterminismError")
    assert "call_activity('inc')" in msg and "call_activity('dec')" in msg
    line = changed.__code__.co_firstlineno + 2
    assert f"test_executor.py:{line}" in msg
    assert "sequence number 1" in msg


def test_new_uuid_and_clock_are_identical_on_replay() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        u = str(ctx.new_uuid())
        yield ctx.call_activity("f")
        return [u, str(ctx.new_uuid()), ctx.current_utc_datetime.isoformat()]

    run = Run(orch)
    first = run.feed(step(7, done(0))).output
    again = replay(orch, run.history[:-1], []).output
    assert first == again and first[0] != first[1]


def test_duplicate_completion_is_not_recorded_twice() -> None:
    run = Run(chain, 1)
    run.feed(step(1, done(0, 2)))
    r = run.feed(step(2, done(0, 2)))
    assert [e for e in r.new_events if isinstance(e, h.TaskCompleted)] == []


def test_logger_is_silent_while_replaying(caplog: pytest.LogCaptureFixture) -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        ctx.logger.warning("step one")
        yield ctx.call_activity("f")
        ctx.logger.warning("step two")

    caplog.set_level(logging.WARNING)
    run = Run(orch)
    run.feed(step(1, done(0)))
    assert [r.getMessage() for r in caplog.records] == ["step one", "step two"]


def test_non_json_output_fails_naming_the_orchestration() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.call_activity("f")
        return {1, 2}

    r = Run(orch).feed(step(1, done(0)))
    assert r.status is RuntimeStatus.FAILED
    assert "output of orchestration 'orch'" in r.failure.message


def test_yielding_a_non_task_fails_with_clear_message() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield 42

    r = Run(orch).last
    assert r.status is RuntimeStatus.FAILED and "yielded int, not a durable task" in (
        r.failure.message
    )


def test_cached_replayer_matches_full_replay() -> None:
    def orch(ctx: Ctx, n: int) -> Any:
        total = 0
        for i in range(n):
            total += yield ctx.call_activity("f", i)
        return total

    full = Run(orch, 4)
    cached = Replayer(orch)
    history = list(cached.advance([], started(input=4)).new_events)
    for k in range(4):
        new = step(k + 1, done(k, k))
        expect = full.feed(new)
        got = cached.advance(history, new)
        history += got.new_events
        assert got.new_events == expect.new_events
    assert history == full.history


def test_mutating_a_delivered_payload_does_not_rewrite_history() -> None:
    def orch(ctx: Ctx, items: list[int]) -> Any:
        items.append(len(items))
        first = yield ctx.call_activity("f", list(items))
        first.append("x")
        items.append(len(items))
        return [first, items]

    run = Run(orch, [0])
    r = run.feed(step(1, done(0, [7])))
    assert r.output == [[7, "x"], [0, 1, 2]]
    assert run.history[1].input == [0]
    assert run.history[-2].result == [7]
    again = replay(orch, run.history[:-1], [])
    assert again.output == [[7, "x"], [0, 1, 2]]
