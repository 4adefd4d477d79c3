"""Orchestration semantics at the edges, as pure replays: histories in, decisions out.

Cancelled timers and event waits, event waiters that lost a race, events that arrive in the
step that continues as new, BaseExceptions from orchestrator code, and ``new_uuid``.
"""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import durableflow as df
from durableflow.core import history as h
from durableflow.core.retry import RetryPolicy
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import OrchestrationContext, Replayer, StepResult, replay
from tests.runtime.events import done, failed, fired, raised, started, step

Ctx = OrchestrationContext


class Run:
    """Feeds steps to one live replayer and keeps the growing history, as a worker does."""

    def __init__(self, fn: Any, input: Any = None) -> None:
        self.fn = fn
        self.replayer = Replayer(fn)
        self.history: list[h.HistoryEvent] = []
        self.last = self.feed(started(input=input))

    def feed(self, new: list[h.HistoryEvent]) -> StepResult:
        result = self.replayer.advance(self.history, new)
        self.history += result.new_events
        self.last = result
        return result

    def full_replay(self) -> StepResult:
        """The same history replayed from scratch by a fresh generator."""
        return replay(self.fn, self.history)


# -- cancelled timers --------------------------------------------------------------------
def yields_cancelled_timer(ctx: Ctx, _: Any) -> Any:
    timer = ctx.create_timer(timedelta(hours=1))
    timer.cancel()
    try:
        yield timer
    except df.TimerCancelledError as err:
        return f"cancelled: {err}"
    return "fired"


def test_yielding_a_cancelled_timer_raises_timer_cancelled_error() -> None:
    r = Run(yields_cancelled_timer).last
    assert r.status is RuntimeStatus.COMPLETED
    assert r.output.startswith("cancelled: timer 0")


def test_timer_cancelled_error_is_a_task_cancelled_durableflow_error() -> None:
    assert issubclass(df.TimerCancelledError, df.TaskCancelledError)
    assert issubclass(df.TaskCancelledError, df.DurableflowError)


def test_a_cancelled_timer_that_fires_later_is_ignored() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        timer = ctx.create_timer(timedelta(seconds=5))
        timer.cancel()
        yield ctx.create_timer(timedelta(seconds=10))
        return timer.is_cancelled

    run = Run(orch)
    assert run.feed(step(5, fired(0, 5))).status is RuntimeStatus.RUNNING
    r = run.feed(step(10, fired(1, 10)))
    assert r.status is RuntimeStatus.COMPLETED and r.output is True


# -- new_uuid ----------------------------------------------------------------------------
def test_new_uuid_returns_a_str_that_is_a_payload() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        return ctx.new_uuid()

    r = Run(orch).last
    assert r.status is RuntimeStatus.COMPLETED
    assert isinstance(r.output, str) and uuid.UUID(r.output).version == 5


def test_new_uuid_is_the_same_on_replay_and_differs_per_call() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        first = ctx.new_uuid()
        yield ctx.create_timer(timedelta(seconds=1))
        return [first, ctx.new_uuid()]

    run = Run(orch)
    live = run.feed(step(1, fired(0, 1)))
    first, second = live.output
    assert first != second
    assert replay(orch, run.history[:-1]).output == [first, second]


# -- event waiters -----------------------------------------------------------------------
def rewaits_after_timeout(ctx: Ctx, _: Any) -> Any:
    first = ctx.wait_for_external_event("go")
    timer = ctx.create_timer(timedelta(seconds=10))
    winner = yield ctx.task_any([first, timer])
    assert winner is timer
    return (yield ctx.wait_for_external_event("go"))


def test_an_event_wait_that_lost_task_any_leaves_the_next_event_to_the_new_wait() -> None:
    run = Run(rewaits_after_timeout)
    run.feed(step(10, fired(0, 10)))
    r = run.feed(step(11, raised("go", 7)))
    assert r.status is RuntimeStatus.COMPLETED and r.output == 7


def test_a_lost_event_wait_leaves_the_event_when_both_arrive_in_one_step() -> None:
    run = Run(rewaits_after_timeout)
    r = run.feed(step(11, fired(0, 10), raised("go", 7)))
    assert r.status is RuntimeStatus.COMPLETED and r.output == 7


def test_a_cancelled_event_wait_leaves_the_next_event_to_the_new_wait() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        ctx.wait_for_external_event("go").cancel()
        return (yield ctx.wait_for_external_event("go"))

    run = Run(orch)
    r = run.feed(step(1, raised("go", "second wait")))
    assert r.status is RuntimeStatus.COMPLETED and r.output == "second wait"


def test_yielding_a_cancelled_event_wait_raises_task_cancelled_error() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        wait = ctx.wait_for_external_event("go")
        wait.cancel()
        try:
            yield wait
        except df.TaskCancelledError:
            return wait.is_cancelled
        return "no error"

    r = Run(orch).last
    assert r.status is RuntimeStatus.COMPLETED and r.output is True


def test_cancelling_an_event_wait_after_its_event_arrived_keeps_the_event() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        wait = ctx.wait_for_external_event("go")
        yield ctx.create_timer(timedelta(seconds=5))
        wait.cancel()
        return (yield wait)

    run = Run(orch)
    r = run.feed(step(5, raised("go", 3), fired(0, 5)))
    assert r.status is RuntimeStatus.COMPLETED and r.output == 3


def test_an_event_buffered_while_no_one_waits_goes_to_the_next_wait() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        first = ctx.wait_for_external_event("go")
        winner = yield ctx.task_any([first, ctx.create_timer(timedelta(seconds=1))])
        assert winner is not first
        yield ctx.call_activity("remind")
        return (yield ctx.wait_for_external_event("go"))

    run = Run(orch)
    run.feed(step(1, fired(0, 1)))
    run.feed(step(2, raised("go", "while reminding")))
    r = run.feed(step(3, done(1)))
    assert r.status is RuntimeStatus.COMPLETED and r.output == "while reminding"


def test_a_lost_event_wait_yielded_again_takes_the_next_event() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        approval = ctx.wait_for_external_event("approval")
        reminders = 0
        while True:
            timer = ctx.create_timer(timedelta(seconds=10 * (reminders + 1)))
            winner = yield ctx.task_any([approval, timer])
            if winner is approval:
                timer.cancel()
                return [approval.get_result(), reminders]
            reminders += 1

    run = Run(orch)
    run.feed(step(10, fired(0, 10)))
    r = run.feed(step(15, raised("approval", "yes")))
    assert r.status is RuntimeStatus.COMPLETED and r.output == ["yes", 1]


def test_waiters_of_one_name_take_events_oldest_first() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        a = ctx.wait_for_external_event("go")
        b = ctx.wait_for_external_event("go")
        return (yield ctx.task_all([a, b]))

    run = Run(orch)
    r = run.feed(step(1, raised("go", 1), raised("go", 2)))
    assert r.output == [1, 2]


def test_an_event_wait_still_in_a_pending_task_all_keeps_taking_events() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        wait = ctx.wait_for_external_event("go")
        both = ctx.task_all([wait, ctx.call_activity("work")])
        yield ctx.task_any([wait, ctx.create_timer(timedelta(seconds=1))])
        return (yield both)

    run = Run(orch)
    run.feed(step(1, fired(1, 1)))  # the timer wins the race; task_all still wants the wait
    r = run.feed(step(2, raised("go", "e"), done(0, "w")))
    assert r.status is RuntimeStatus.COMPLETED and r.output == ["e", "w"]


def test_cancelling_an_event_wait_with_timeout_cancels_its_timer_too() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        wait = ctx.wait_for_external_event("go", timeout=timedelta(seconds=5))
        wait.cancel()
        return (yield ctx.wait_for_external_event("go"))

    run = Run(orch)
    assert run.feed(step(5, fired(0, 5))).status is RuntimeStatus.RUNNING
    r = run.feed(step(6, raised("go", "next")))
    assert r.status is RuntimeStatus.COMPLETED and r.output == "next"


def test_a_timed_out_event_wait_leaves_the_next_event_to_the_new_wait() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        try:
            yield ctx.wait_for_external_event("go", timeout=timedelta(seconds=5))
        except df.EventTimeoutError:
            ctx.set_custom_status("timed out")
        return (yield ctx.wait_for_external_event("go"))

    run = Run(orch)
    run.feed(step(5, fired(0, 5)))
    r = run.feed(step(6, raised("go", "after timeout")))
    assert r.status is RuntimeStatus.COMPLETED and r.output == "after timeout"


def racer(ctx: Ctx, rounds: int) -> Any:
    got: list[Any] = []
    for i in range(rounds):
        wait = ctx.wait_for_external_event("e")
        timer = ctx.create_timer(timedelta(seconds=i + 1))
        winner = yield ctx.task_any([wait, timer])
        if winner is wait:
            timer.cancel()
            got.append(wait.get_result())
        else:
            got.append("timeout")
        ctx.set_custom_status(got)
    return got


# An input script: ("fire", k) fires timer k (a timer that does not exist yet, or was
# cancelled, is ignored); ("raise", v) raises event "e" with v; a True splits the step.
SCRIPT = st.lists(
    st.one_of(
        st.tuples(st.just("fire"), st.integers(0, 4)),
        st.tuples(st.just("raise"), st.integers(0, 99)),
        st.just(True),
    ),
    max_size=30,
)


def _steps(script: list[Any]) -> list[list[h.HistoryEvent]]:
    steps: list[list[h.HistoryEvent]] = [[]]
    for n, entry in enumerate(script):
        if entry is True:
            steps.append([])
        elif entry[0] == "fire":
            steps[-1].append(fired(entry[1], n))
        else:
            steps[-1].append(raised("e", entry[1], n))
    return [step(i + 1, *events) for i, events in enumerate(steps) if events]


@given(SCRIPT)
def test_which_wait_gets_which_event_is_a_function_of_history(script: list[Any]) -> None:
    run = Run(racer, 4)
    for new in _steps(script):
        if run.last.is_terminal:
            break
        run.feed(new)
    again = run.full_replay()
    assert again.status is run.last.status
    assert (again.output, again.custom_status) == (run.last.output, run.last.custom_status)


# -- continue_as_new ---------------------------------------------------------------------
def collects(ctx: Ctx, seen: list[Any]) -> Any:
    value = yield ctx.wait_for_external_event("item")
    ctx.continue_as_new([*seen, value])


def test_events_after_the_one_that_continues_as_new_carry_over() -> None:
    run = Run(collects, [])
    r = run.feed(step(1, raised("item", 1), raised("item", 2), raised("other", 3)))
    assert r.status is RuntimeStatus.CONTINUED_AS_NEW and r.continue_input == [1]
    assert [(e.name, e.input) for e in r.carryover_events] == [("item", 2), ("other", 3)]


def test_buffered_events_carry_over_before_later_ones() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=1))
        ctx.continue_as_new(None)

    run = Run(orch)
    r = run.feed(step(1, raised("a", 1), fired(0, 1), raised("a", 2)))
    assert [e.input for e in r.carryover_events] == [1, 2]


def test_carried_over_events_are_the_same_on_full_replay() -> None:
    run = Run(collects, [])
    live = run.feed(step(1, raised("item", 1), raised("item", 2)))
    assert [e.input for e in live.carryover_events] == [2]
    assert replay(collects, run.history[:-1]).carryover_events == live.carryover_events


# -- BaseException from orchestrator code ------------------------------------------------
class Abort(BaseException):
    """A BaseException that is neither SystemExit nor KeyboardInterrupt."""


def test_sys_exit_in_an_orchestrator_fails_the_execution_with_it() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=1))
        sys.exit(3)

    run = Run(orch)
    r = run.feed(step(1, fired(0, 1)))
    assert r.status is RuntimeStatus.FAILED
    assert r.failure is not None and r.failure.error_type == "SystemExit"
    assert r.failure.message == "3"


def test_a_base_exception_before_the_first_yield_fails_the_execution() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        raise Abort("stop")

    r = Run(orch).last
    assert r.status is RuntimeStatus.FAILED
    assert r.failure is not None and r.failure.error_type.endswith("Abort")


def test_a_base_exception_is_logged_with_the_instance_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=1))
        raise Abort("stop")

    run = Run(orch)
    with caplog.at_level(logging.ERROR, logger="durableflow.orchestration"):
        run.feed(step(1, fired(0, 1)))
    assert any("i1" in r.getMessage() and "Abort" in r.getMessage() for r in caplog.records)


def test_a_base_exception_in_cleanup_does_not_escape_a_failing_orchestrator() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        try:
            yield ctx.create_timer(timedelta(seconds=1))
        finally:
            sys.exit("cleanup")

    run = Run(orch)
    r = run.feed(step(1, h.ExecutionTerminated(timestamp=run.history[0].timestamp)))
    assert r.status is RuntimeStatus.TERMINATED


def test_a_retry_policy_whose_handle_raises_fails_the_execution() -> None:
    def handle(err: Exception) -> bool:
        raise Abort("handle broke")

    def orch(ctx: Ctx, _: Any) -> Any:
        policy = RetryPolicy(timedelta(seconds=1), 3, handle=handle)
        return (yield ctx.call_activity("flaky", retry=policy))

    run = Run(orch)
    r = run.feed(step(1, failed(0)))
    assert r.status is RuntimeStatus.FAILED
    assert r.failure is not None and "handle broke" in r.failure.message


class Unprintable(ValueError):
    def __str__(self) -> str:
        raise RuntimeError("cannot print this error")


def test_an_orchestrator_error_whose_str_raises_fails_with_its_own_type() -> None:
    def orch(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=1))
        raise Unprintable()

    run = Run(orch)
    r = run.feed(step(1, fired(0, 1)))
    assert r.status is RuntimeStatus.FAILED and r.failure is not None
    assert r.failure.error_type.endswith("Unprintable")
    assert r.failure.message == "<unprintable Unprintable>"
