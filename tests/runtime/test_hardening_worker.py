"""User code that misbehaves inside an activity fails that attempt, never the worker."""

from __future__ import annotations

import logging
import sys
from collections.abc import Generator
from typing import Any

import pytest

import durableflow as df
from durableflow.runtime.store.memory import MemoryStore

WAIT = 20.0


class Unprintable(ValueError):
    def __str__(self) -> str:
        raise RuntimeError("cannot print this error")


def build_app() -> df.App:
    app = df.App()

    @app.activity
    def exits() -> None:
        sys.exit(3)

    @app.activity
    def interrupts() -> None:
        raise KeyboardInterrupt

    @app.activity
    def unprintable() -> None:
        raise Unprintable("hidden")

    @app.activity
    def double(x: int) -> int:
        return 2 * x

    @app.orchestrator
    def catch(ctx: df.OrchestrationContext, name: str) -> Generator[Any, Any, Any]:
        try:
            yield ctx.call_activity(name)
        except df.TaskFailedError as err:
            return [err.error_type, err.error_message]
        return "no error"

    @app.orchestrator
    def doubled(ctx: df.OrchestrationContext, x: int) -> Generator[Any, Any, Any]:
        return (yield ctx.call_activity(double, x))

    return app


def run_catch(name: str) -> Any:
    with df.Runtime(build_app(), "memory://", activity_concurrency=1) as rt:
        iid = rt.client.start_new("catch", input=name)
        state = rt.client.wait_for_completion(iid, timeout=WAIT)
    assert state.runtime_status is df.RuntimeStatus.COMPLETED
    return state.output


def test_an_activity_calling_sys_exit_fails_with_system_exit() -> None:
    assert run_catch("exits") == ["SystemExit", "3"]


def test_an_activity_raising_keyboard_interrupt_fails_with_it() -> None:
    assert run_catch("interrupts")[0] == "KeyboardInterrupt"


def test_activities_still_run_after_one_called_sys_exit() -> None:
    with df.Runtime(build_app(), "memory://", activity_concurrency=1) as rt:
        bad = rt.client.start_new("catch", input="exits")
        assert rt.client.wait_for_completion(bad, timeout=WAIT).output[0] == "SystemExit"
        good = [rt.client.start_new("doubled", input=i) for i in range(3)]
        outputs = [rt.client.wait_for_completion(i, timeout=WAIT).output for i in good]
    assert outputs == [0, 2, 4]


def test_an_unprintable_activity_error_fails_the_task_with_a_fallback_message() -> None:
    error_type, message = run_catch("unprintable")
    assert error_type.endswith("Unprintable")
    assert message == "<unprintable Unprintable>"


@pytest.mark.parametrize("store", ["memory://", "sqlite"])
def test_an_unprintable_activity_error_is_recorded_once(store: str, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}" if store == "sqlite" else store
    with df.Runtime(build_app(), url) as rt:
        iid = rt.client.start_new("catch", input="unprintable")
        rt.client.wait_for_completion(iid, timeout=WAIT)
        failed = [e for e in rt.client.store.get_history(iid) if type(e).__name__ == "TaskFailed"]
    assert len(failed) == 1


class FlakyStore(MemoryStore):
    """A memory store whose first activity poll raises what no loop expects."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = 0

    def lock_activity(self, owner: str, *, now: Any, lease: Any) -> Any:
        self.polls += 1
        if self.polls == 1:
            raise SystemExit("escaped the dispatch loop")
        return super().lock_activity(owner, now=now, lease=lease)


def test_a_worker_thread_whose_loop_raises_logs_it_and_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyStore()
    with (
        caplog.at_level(logging.ERROR, "durableflow.worker"),
        df.Runtime(build_app(), store, poll_interval=0.01) as rt,
    ):
        iid = rt.client.start_new("doubled", input=21)
        assert rt.client.wait_for_completion(iid, timeout=WAIT).output == 42
    assert any("keeps serving" in r.getMessage() for r in caplog.records)
