"""Changing an orchestrator under a running instance fails it with a clear NonDeterminismError."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import durableflow as df


def v1(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.call_activity("reserve", 1)
    approval = yield ctx.wait_for_external_event("approve")
    yield ctx.call_activity("charge", approval)
    return "done"


def v2(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.call_activity("check_stock", 1)  # replaced "reserve": breaks running instances
    approval = yield ctx.wait_for_external_event("approve")
    yield ctx.call_activity("charge", approval)
    return "done"


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        pause.wait(0.01)


def make_app(orchestrator: Any) -> df.App:
    app = df.App()
    app.orchestrator(name="order")(orchestrator)
    for name in ("reserve", "check_stock", "charge"):
        app.activity(name=name)(lambda x: x)
    return app


def test_code_changed_between_runs_fails_instance_naming_actions_and_line(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    with df.Runtime(make_app(v1), url) as rt:
        iid = rt.client.start_new("order")
        wait_until(
            lambda: any(e.TYPE == "TaskCompleted" for e in rt.client.get_history(iid).events)
        )
    with df.Runtime(make_app(v2), url) as rt:
        rt.client.raise_event(iid, "approve", "yes")
        st = rt.client.wait_for_completion(iid, timeout=30)
    assert st.runtime_status is df.RuntimeStatus.FAILED
    msg = st.failure.message
    assert st.failure.error_type.endswith("NonDeterminismError")
    assert "call_activity('reserve')" in msg and "call_activity('check_stock')" in msg
    assert f"test_versioning.py:{v2.__code__.co_firstlineno + 1}" in msg
    assert "code changed after this instance started" in msg
