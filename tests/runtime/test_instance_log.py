"""The worker's log: what happened to which instance, once per committed step."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

import durableflow as df
from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker
from durableflow.testing.drive import drive_to_completion

app = df.App()
FLAKY: dict[str, int] = {}


@app.activity
def echo(x: Any) -> Any:
    return x


@app.activity
def flaky(key: str) -> str:
    FLAKY[key] = FLAKY.get(key, 0) + 1
    if FLAKY[key] < 2:
        raise ConnectionError("service unavailable")
    return key


@app.orchestrator
def chain(ctx: df.OrchestrationContext, x: Any) -> Any:
    ctx.logger.info("got %s", x, extra={"step": "first"})
    return (yield ctx.call_activity(echo, x))


@app.orchestrator
def boom(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.call_activity(echo, 1)
    raise ValueError("bad order")


@app.orchestrator
def retried(ctx: df.OrchestrationContext, key: str) -> Any:
    policy = df.RetryPolicy(first_interval=timedelta(seconds=5), max_attempts=3)
    return (yield ctx.call_activity(flaky, key, retry=policy))


@app.orchestrator
def waits(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.call_activity(echo, 1)
    return (yield ctx.wait_for_external_event("go"))


# The same orchestrator name, changed so that it schedules other work than its history.
changed = df.App()


@changed.activity
def other(x: Any) -> Any:
    return x


@changed.orchestrator(name="waits")
def waits_v2(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.call_activity(other, 1)
    return (yield ctx.wait_for_external_event("go"))


def lines(caplog: pytest.LogCaptureFixture, iid: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if getattr(r, "instance_id", None) == iid]


@pytest.fixture
def rt() -> Any:
    with df.Runtime(app, "memory://", clock=df.FakeClock()) as runtime:
        yield runtime


def test_started_and_completed_are_logged_with_the_instance_id(
    rt: df.Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="durableflow")
    iid = rt.client.start_new(chain, input=3)
    rt.client.wait_for_completion(iid, timeout=30)
    instance = [m for m in lines(caplog, iid) if m.startswith("instance")]
    assert instance == [f"instance {iid} started: chain", f"instance {iid} completed"]


def test_a_failed_instance_is_logged_as_an_error_with_its_exception(
    rt: df.Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="durableflow")
    iid = rt.client.start_new(boom)
    rt.client.wait_for_completion(iid, timeout=30)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [f"instance {iid} failed: ValueError: bad order"]
    assert errors[0].name == "durableflow.instance" and errors[0].instance_id == iid  # type: ignore[attr-defined]


def test_a_retry_is_logged_once_with_the_task_the_attempt_and_the_delay(
    rt: df.Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="durableflow")
    iid = rt.client.start_new(retried, input="k1")
    assert drive_to_completion(rt, iid).output == "k1"
    retries = [m for m in lines(caplog, iid) if "retrying" in m]
    assert retries == [
        f"instance {iid}: flaky failed (attempt 1 of 3): ConnectionError: service "
        "unavailable; retrying in 5s"
    ]


def test_nondeterminism_is_logged_as_such(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="durableflow")
    store = open_store("memory://")
    client = df.Client(store)
    iid = client.start_new("waits")
    before = Worker(app, store)
    while before.run_one_orchestration_step() or before.run_one_activity():
        pass
    client.raise_event(iid, "go", "now")
    after = Worker(changed, store)
    assert after.run_one_orchestration_step()
    failed = [m for m in lines(caplog, iid) if "failed" in m]
    assert len(failed) == 1 and failed[0].startswith(f"instance {iid} failed: nondeterminism: ")


def test_ctx_logger_records_carry_the_instance_id_and_the_callers_extra(
    rt: df.Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="durableflow")
    iid = rt.client.start_new(chain, input=7)
    rt.client.wait_for_completion(iid, timeout=30)
    mine = [r for r in caplog.records if r.name == "durableflow.orchestration.chain"]
    assert [r.getMessage() for r in mine] == ["got 7"]
    assert (mine[0].instance_id, mine[0].step) == (iid, "first")  # type: ignore[attr-defined]


def test_nothing_below_warning_is_logged_at_warning_level(
    rt: df.Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="durableflow")
    iid = rt.client.start_new(chain, input=1)
    rt.client.wait_for_completion(iid, timeout=30)
    assert lines(caplog, iid) == []


def test_a_terminated_instance_is_logged_once(
    rt: df.Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="durableflow")
    iid = rt.client.start_new(waits)
    rt.client.terminate(iid, "no longer needed")
    rt.client.wait_for_completion(iid, timeout=30)
    ended = [m for m in lines(caplog, iid) if "terminated" in m]
    assert ended == [f"instance {iid} terminated (reason: 'no longer needed')"]
