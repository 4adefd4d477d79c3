"""Client behaviour against a real SQLite store with an embedded worker."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import durableflow as df
from durableflow.core import history as h
from durableflow.core.errors import InvalidStateError
from durableflow.runtime.executor import replay
from durableflow.testing.drive import drive_to_completion

app = df.App()


@app.activity
def echo(x: Any) -> Any:
    return x


@app.activity
def not_json(_: Any) -> Any:
    return object()


@app.orchestrator
def waits(ctx: df.OrchestrationContext, _: Any) -> Any:
    first = yield ctx.wait_for_external_event("go")
    ctx.set_custom_status({"got": first})
    second = yield ctx.wait_for_external_event("go")
    return [first, second]


@app.orchestrator
def echo_once(ctx: df.OrchestrationContext, x: Any) -> Any:
    return (yield ctx.call_activity(echo, x))


@app.orchestrator
def bad_result(ctx: df.OrchestrationContext, _: Any) -> Any:
    return (yield ctx.call_activity(not_json, 1))


@app.orchestrator
def unknown_activity(ctx: df.OrchestrationContext, _: Any) -> Any:
    return (yield ctx.call_activity("nope", 1))


@app.orchestrator
def sleeper(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.create_timer(timedelta(days=1))
    return "woke"


@pytest.fixture
def rt(tmp_path: Path) -> Any:
    with df.Runtime(app, f"sqlite:///{tmp_path / 'c.db'}", clock=df.FakeClock()) as runtime:
        yield runtime


def test_32_concurrent_starts_with_one_id_create_exactly_one(rt: df.Runtime) -> None:
    barrier = threading.Barrier(32)
    outcomes: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        try:
            rt.client.start_new("waits", instance_id="single")
            result = "ok"
        except df.InstanceAlreadyExistsError:
            result = "exists"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=start) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("exists") == 31
    assert len(rt.client.list_instances(name_prefix="waits")) == 1
    rt.client.raise_event("single", "go", 1)
    rt.client.raise_event("single", "go", 2)
    assert rt.client.wait_for_completion("single", timeout=30).output == [1, 2]
    rt.client.start_new("waits", instance_id="single")
    assert rt.client.get_status("single").runtime_status is not df.RuntimeStatus.COMPLETED


def test_events_are_matched_in_order_and_custom_status_published(rt: df.Runtime) -> None:
    iid = rt.client.start_new(waits)
    rt.client.raise_event(iid, "go", "a")
    rt.client.raise_event(iid, "go", "b")
    st = rt.client.wait_for_completion(iid, timeout=30)
    assert st.output == ["a", "b"] and st.custom_status == {"got": "a"}


def test_terminate_ends_a_waiting_instance(rt: df.Runtime) -> None:
    iid = rt.client.start_new(waits)
    rt.client.terminate(iid, "no longer needed")
    st = rt.client.wait_for_completion(iid, timeout=30)
    assert st.runtime_status is df.RuntimeStatus.TERMINATED
    with pytest.raises(InvalidStateError):
        rt.client.terminate(iid)


def test_suspend_holds_events_until_resume(rt: df.Runtime) -> None:
    iid = rt.client.start_new(waits)
    rt.client.suspend(iid)
    rt.client.raise_event(iid, "go", 1)
    rt.client.raise_event(iid, "go", 2)
    with pytest.raises(df.WaitTimeoutError):
        rt.client.wait_for_completion(iid, timeout=0.3)
    assert rt.client.get_status(iid).runtime_status is df.RuntimeStatus.SUSPENDED
    rt.client.resume(iid)
    assert rt.client.wait_for_completion(iid, timeout=30).output == [1, 2]


def test_purge_removes_ended_instance_and_refuses_running_one(rt: df.Runtime) -> None:
    iid = rt.client.start_new(echo_once, input=3)
    rt.client.wait_for_completion(iid, timeout=30)
    running = rt.client.start_new(waits)
    with pytest.raises(InvalidStateError):
        rt.client.purge(running)
    assert rt.client.purge(iid) is True
    assert rt.client.get_status(iid) is None


def test_list_instances_pages_by_the_last_state_of_a_page(rt: df.Runtime) -> None:
    for i in range(5):
        rt.client.start_new(waits, instance_id=f"page-{i}")
    rt.client.start_new(waits, instance_id="other")
    first = rt.client.list_instances(limit=3, instance_id_prefix="page-", show_input=False)
    last = first[-1]
    rest = rt.client.list_instances(
        limit=3, instance_id_prefix="page-", after=(last.created_at, last.instance_id)
    )
    ids = [s.instance_id for s in first + rest]
    assert sorted(ids) == [f"page-{i}" for i in range(5)] and len(set(ids)) == 5


def test_list_instances_filters_by_status_and_prefix(rt: df.Runtime) -> None:
    done = rt.client.start_new(echo_once, input=1)
    rt.client.wait_for_completion(done, timeout=30)
    waiting = rt.client.start_new(waits)
    completed = rt.client.list_instances(status=df.RuntimeStatus.COMPLETED)
    assert [s.instance_id for s in completed] == [done]
    assert [s.instance_id for s in rt.client.list_instances(name_prefix="wai")] == [waiting]


@pytest.mark.parametrize(
    "status",
    ["COMPLETED", "completed", "Completed", ["completed"], ("COMPLETED", df.RuntimeStatus.FAILED)],
    ids=repr,
)
def test_list_instances_accepts_status_names_in_any_case(rt: df.Runtime, status: Any) -> None:
    done = rt.client.start_new(echo_once, input=1)
    rt.client.wait_for_completion(done, timeout=30)
    rt.client.start_new(waits)
    assert [s.instance_id for s in rt.client.list_instances(status=status)] == [done]


def test_list_instances_with_an_unknown_status_name_says_which_exist(rt: df.Runtime) -> None:
    with pytest.raises(ValueError, match="unknown runtime status 'DONE'; expected one of PENDING"):
        rt.client.list_instances(status="DONE")


def test_exported_history_replays_to_the_same_output(rt: df.Runtime) -> None:
    iid = rt.client.start_new(echo_once, input={"k": [1, 2]})
    rt.client.wait_for_completion(iid, timeout=30)
    doc = df.core.HistoryDocument.from_json(rt.client.get_history(iid).to_json())
    body = [e for e in doc.events if not isinstance(e, h.ExecutionCompleted)]
    assert replay(echo_once, body, []).output == {"k": [1, 2]}


def test_durable_timer_fires_from_the_store_on_fake_clock(rt: df.Runtime) -> None:
    iid = rt.client.start_new(sleeper)
    assert drive_to_completion(rt, iid).output == "woke"


# -- bad input: a clear error, and nothing changes ---------------------------------------
def test_non_json_input_is_rejected_before_anything_is_stored(rt: df.Runtime) -> None:
    with pytest.raises(df.PayloadError, match="input of orchestration 'echo_once'"):
        rt.client.start_new(echo_once, input={1, 2})
    assert rt.client.list_instances() == []


def test_non_json_activity_result_fails_the_task_with_its_name(rt: df.Runtime) -> None:
    iid = rt.client.start_new(bad_result)
    st = rt.client.wait_for_completion(iid, timeout=30)
    assert st.runtime_status is df.RuntimeStatus.FAILED
    assert "result of activity 'not_json' is not JSON-serializable" in st.failure.message


def test_unknown_orchestrator_is_refused_listing_known_names(rt: df.Runtime) -> None:
    with pytest.raises(df.UnknownFunctionError, match=r"Known orchestrators: .*echo_once"):
        rt.client.start_new("missing")


def test_unknown_activity_fails_the_task_listing_known_names(rt: df.Runtime) -> None:
    st = rt.client.wait_for_completion(rt.client.start_new(unknown_activity), timeout=30)
    assert st.runtime_status is df.RuntimeStatus.FAILED
    assert "unknown activity 'nope'" in st.failure.message and "echo" in st.failure.message


def test_worker_fails_instance_of_orchestrator_it_does_not_know(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    iid = df.Client(url).start_new("ghost")
    with df.Runtime(app, url) as runtime:
        st = runtime.client.wait_for_completion(iid, timeout=30)
    assert st.runtime_status is df.RuntimeStatus.FAILED
    assert "unknown orchestrator 'ghost'" in st.failure.message


@pytest.mark.parametrize(
    "bad_id",
    ["", "x" * 257, "tab\there", "nul\x00", "bell\x07"],
    ids=["empty", "too-long", "tab", "nul", "bell"],
)
def test_bad_instance_ids_are_rejected(rt: df.Runtime, bad_id: str) -> None:
    with pytest.raises(df.InvalidInstanceIdError):
        rt.client.start_new(echo_once, instance_id=bad_id)
    assert rt.client.list_instances() == []


def test_instance_id_of_256_characters_is_accepted(rt: df.Runtime) -> None:
    iid = rt.client.start_new(echo_once, input=1, instance_id="x" * 256)
    assert rt.client.wait_for_completion(iid, timeout=30).output == 1


def test_wait_for_completion_of_unknown_instance_raises(rt: df.Runtime) -> None:
    with pytest.raises(df.InstanceNotFoundError):
        rt.client.wait_for_completion("nobody", timeout=1)


def test_raise_event_to_ended_instance_is_refused(rt: df.Runtime) -> None:
    iid = rt.client.start_new(echo_once, input=1)
    rt.client.wait_for_completion(iid, timeout=30)
    with pytest.raises(InvalidStateError, match="can no longer receive event 'go'"):
        rt.client.raise_event(iid, "go")


@app.orchestrator
def slow_child(ctx: df.OrchestrationContext, _: Any) -> Any:
    yield ctx.wait_for_external_event("finish")
    return "child-done"


@app.orchestrator
def restarting_parent(ctx: df.OrchestrationContext, generation: int) -> Any:
    if generation == 0:
        ctx.call_sub_orchestrator(slow_child, None, instance_id="kid")  # task 0, not awaited
        ctx.continue_as_new(1)
        return None
    yield ctx.create_timer(timedelta(hours=1))  # task 0 of the new execution
    return "timer fired"


def test_child_reply_to_an_earlier_parent_execution_is_not_taken_as_a_new_task(
    rt: df.Runtime,
) -> None:
    parent = rt.client.start_new(restarting_parent, input=0)
    wait = threading.Event()
    deadline = time.monotonic() + 30
    while rt.client.get_status("kid") is None or not any(
        e.TYPE == "TimerCreated" for e in rt.client.get_history(parent).events
    ):
        assert time.monotonic() < deadline, "the parent never reached its timer"
        wait.wait(0.01)
    rt.client.raise_event("kid", "finish")
    assert rt.client.wait_for_completion("kid", timeout=30).output == "child-done"
    while not rt.worker.is_idle() or rt.store.next_wake_time() <= rt.clock.now():
        assert time.monotonic() < deadline + 30, "the worker never went idle"
        wait.wait(0.01)
    assert rt.client.get_status(parent).runtime_status is df.RuntimeStatus.RUNNING
    assert drive_to_completion(rt, parent).output == "timer fired"
