"""Per-attempt activity timeouts, heartbeats, and fencing the late result of a timed-out one."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import durableflow as df
from durableflow.cli import main
from durableflow.compiler import compile_source
from durableflow.core import history as h
from durableflow.runtime.executor import replay
from durableflow.runtime.graph_interpreter import graph_orchestrator

WAIT = 20.0
TIMEOUT_TYPE = "durableflow.core.errors.ActivityTimeoutError"
T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Hang:
    """An activity that blocks until released, remembering the threads it ran on."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        self.threads.append(threading.current_thread())
        self.started.set()
        self.release.wait(WAIT)
        return "late"


def build_app(hang: Hang, **call: Any) -> df.App:
    app = df.App()
    app.activity(name="hang")(hang)

    @app.activity
    def quick() -> str:
        return "quick"

    @app.orchestrator
    def calls_hang(ctx: df.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
        try:
            return (yield ctx.call_activity("hang", **call))
        except df.TaskFailedError as err:
            return [err.error_type, err.error_message]

    return app


def history_of(rt: df.Runtime, iid: str) -> list[h.HistoryEvent]:
    return rt.client.store.get_history(iid)


def test_an_attempt_past_its_timeout_fails_with_activity_timeout_error() -> None:
    hang = Hang()
    with df.Runtime(build_app(hang, timeout=0.2), "memory://") as rt:
        iid = rt.client.start_new("calls_hang")
        state = rt.client.wait_for_completion(iid, timeout=WAIT)
        hang.release.set()
    error_type, message = state.output
    assert error_type == TIMEOUT_TYPE
    assert "'hang'" in message and "0.2s" in message


def test_the_worker_default_timeout_applies_when_the_call_gives_none() -> None:
    hang = Hang()
    with df.Runtime(build_app(hang), "memory://", activity_timeout=0.2) as rt:
        iid = rt.client.start_new("calls_hang")
        state = rt.client.wait_for_completion(iid, timeout=WAIT)
        hang.release.set()
    assert state.output[0] == TIMEOUT_TYPE


def test_a_timed_out_attempt_is_retried_by_the_retry_policy() -> None:
    hang = Hang()
    retry = df.RetryPolicy(first_interval=timedelta(milliseconds=10), max_attempts=3)
    with df.Runtime(build_app(hang, timeout=0.2, retry=retry), "memory://") as rt:
        iid = rt.client.start_new("calls_hang")
        state = rt.client.wait_for_completion(iid, timeout=WAIT)
        hang.release.set()
    assert state.output[0] == TIMEOUT_TYPE
    assert hang.calls == 3


def test_the_late_result_of_a_timed_out_attempt_is_ignored() -> None:
    hang = Hang()
    with df.Runtime(build_app(hang, timeout=0.2), "memory://") as rt:
        iid = rt.client.start_new("calls_hang")
        rt.client.wait_for_completion(iid, timeout=WAIT)
        hang.release.set()
        (thread,) = hang.threads
        thread.join(WAIT)
        assert not thread.is_alive()
        events = history_of(rt, iid)
    assert not any(isinstance(e, h.TaskCompleted) for e in events)
    assert sum(isinstance(e, h.TaskFailed) for e in events) == 1


def test_a_runner_stuck_in_a_timed_out_attempt_is_replaced() -> None:
    hang = Hang()
    app = build_app(hang, timeout=0.2)

    @app.orchestrator
    def calls_quick(ctx: df.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
        return (yield ctx.call_activity("quick"))

    with df.Runtime(app, "memory://", activity_concurrency=1) as rt:
        stuck = rt.client.start_new("calls_hang")
        assert rt.client.wait_for_completion(stuck, timeout=WAIT).output[0] == TIMEOUT_TYPE
        after = rt.client.start_new("calls_quick")
        state = rt.client.wait_for_completion(after, timeout=WAIT)
        hang.release.set()
    assert state.output == "quick"


def test_heartbeats_keep_a_long_attempt_alive_past_its_timeout() -> None:
    clock = df.FakeClock()
    app = df.App()

    @app.activity
    def beats() -> str:
        # 24 s in all, past the 10 s timeout, but within the 30 s lease: the lease keeper
        # renews leases in real time, so a fake clock must not outrun them.
        for _ in range(4):
            clock.advance(timedelta(seconds=6))  # each step is 6 s of a 10 s timeout
            df.heartbeat()
        return "done"

    @app.orchestrator
    def calls_beats(ctx: df.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
        return (yield ctx.call_activity(beats, timeout=timedelta(seconds=10)))

    with df.Runtime(app, "memory://", clock=clock) as rt:
        iid = rt.client.start_new("calls_beats")
        assert rt.client.wait_for_completion(iid, timeout=WAIT).output == "done"


def test_heartbeats_from_a_thread_given_the_activitys_context_count() -> None:
    clock = df.FakeClock()
    app = df.App()

    def steps() -> None:
        for _ in range(4):
            clock.advance(timedelta(seconds=6))
            df.heartbeat()

    @app.activity
    def delegates() -> str:
        helper = threading.Thread(target=contextvars.copy_context().run, args=(steps,))
        helper.start()
        helper.join()
        return "done"

    @app.orchestrator
    def calls_delegates(ctx: df.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
        return (yield ctx.call_activity(delegates, timeout=timedelta(seconds=10)))

    with df.Runtime(app, "memory://", clock=clock) as rt:
        iid = rt.client.start_new("calls_delegates")
        assert rt.client.wait_for_completion(iid, timeout=WAIT).output == "done"


def test_heartbeat_raises_in_an_attempt_that_already_timed_out() -> None:
    clock = df.FakeClock()
    app = df.App()
    release = threading.Event()
    raised: list[BaseException] = []
    beat_done = threading.Event()

    @app.activity
    def stalls() -> None:
        clock.advance(timedelta(seconds=11))
        release.wait(WAIT)
        try:
            df.heartbeat()
        except df.ActivityTimeoutError as err:
            raised.append(err)
        beat_done.set()

    @app.orchestrator
    def calls_stalls(ctx: df.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
        try:
            yield ctx.call_activity(stalls, timeout=10)
        except df.TaskFailedError as err:
            return err.error_type

    with df.Runtime(app, "memory://", clock=clock) as rt:
        iid = rt.client.start_new("calls_stalls")
        assert rt.client.wait_for_completion(iid, timeout=WAIT).output == TIMEOUT_TYPE
        release.set()
        assert beat_done.wait(WAIT)
    assert len(raised) == 1


def test_heartbeat_outside_an_activity_does_nothing() -> None:
    df.heartbeat()


@pytest.mark.parametrize("bad", [0, -1.5, timedelta(0), "10"])
def test_a_timeout_that_is_not_a_positive_duration_fails_the_orchestration(bad: Any) -> None:
    hang = Hang()
    with df.Runtime(build_app(hang, timeout=bad), "memory://") as rt:
        iid = rt.client.start_new("calls_hang")
        state = rt.client.wait_for_completion(iid, timeout=WAIT)
    assert state.runtime_status is df.RuntimeStatus.FAILED
    assert state.failure is not None and "timeout of activity 'hang'" in state.failure.message
    assert hang.calls == 0


@pytest.mark.parametrize("bad", [0, -1])
def test_a_worker_default_timeout_that_is_not_positive_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="activity_timeout must be positive"):
        df.Runtime(df.App(), "memory://", activity_timeout=bad)


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--activity-timeout", "0"), ("--activity-timeout", "soon"), ("--drain-timeout", "-1")],
)
def test_durable_worker_refuses_a_bad_duration_as_a_usage_error(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["worker", "tests.runtime.hang_app:app", flag, value])
    assert exit_.value.code == 2
    assert flag in capsys.readouterr().err


COMPILED = """
import durableflow as df
from datetime import timedelta
app = df.App()

@app.orchestrator
def timed(ctx: df.OrchestrationContext, xs):
    first = yield ctx.call_activity("one", xs, timeout=timedelta(seconds=5))
    rest = yield ctx.task_all([ctx.call_activity("each", x, timeout=7) for x in xs])
    return [first, rest]
"""


def test_a_compiled_graph_passes_activity_timeouts_as_the_generator_does() -> None:
    graph = compile_source(COMPILED)[0]
    start = h.ExecutionStarted(
        timestamp=T0, name="timed", instance_id="i1", execution_id="e1", input=[1, 2]
    )
    first = replay(graph_orchestrator(graph), [], [h.OrchestratorStarted(timestamp=T0), start])
    assert [(a.name, a.timeout) for a in first.actions] == [("one", timedelta(seconds=5))]
    done = h.TaskCompleted(timestamp=T0, task_id=0, result=0)
    second = replay(
        graph_orchestrator(graph), first.new_events, [h.OrchestratorStarted(timestamp=T0), done]
    )
    assert [a.timeout for a in second.actions] == [timedelta(seconds=7)] * 2
