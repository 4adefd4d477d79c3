"""Orchestration semantics end to end on real stores: one instance's bad step never holds
back the others, sub-orchestration ids stay valid, continue-as-new loses no event, and a
BaseException from orchestrator code ends its instance, not the worker."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import durableflow as df
from durableflow.core.errors import StoreLockedError
from durableflow.core.ids import MAX_INSTANCE_ID_LENGTH, child_instance_id
from durableflow.runtime.store import open_store
from durableflow.runtime.store.base import OrchestrationCommit, OrchestrationWorkItem, Store
from durableflow.runtime.worker import Worker

app = df.App()


@app.activity
def double(x: int) -> int:
    return 2 * x


@app.orchestrator
def doubles(ctx: df.OrchestrationContext, x: int) -> Any:
    return (yield ctx.call_activity(double, x))


@app.orchestrator
def child(ctx: df.OrchestrationContext, x: int) -> Any:
    return x + 1


@app.orchestrator
def bad_child_id(ctx: df.OrchestrationContext, child_id: str) -> Any:
    return (yield ctx.call_sub_orchestrator(child, 1, instance_id=child_id))


@app.orchestrator
def nested(ctx: df.OrchestrationContext, depth: int) -> Any:
    if depth == 0:
        return [ctx.instance_id]
    below = yield ctx.call_sub_orchestrator(nested, depth - 1)
    return [ctx.instance_id, *below]


@app.orchestrator
def collects(ctx: df.OrchestrationContext, seen: list[Any]) -> Any:
    value = yield ctx.wait_for_external_event("item")
    seen = [*seen, value]
    if len(seen) == 3:
        return seen
    ctx.continue_as_new(seen)
    return None


@app.orchestrator
def exits(ctx: df.OrchestrationContext, code: int) -> Any:
    yield ctx.call_activity(double, 1)
    sys.exit(code)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'h.db'}" if request.param == "sqlite" else "memory://"
    opened = open_store(url)
    yield opened
    opened.close()


def drain(worker: Worker) -> None:
    """Run steps and activities on this thread until there is nothing left to do."""
    while worker.run_orchestration_batch(32) or worker.run_one_activity():
        pass


def status(store: Store, iid: str) -> df.OrchestrationState:
    return df.Client(store).get_status(iid)


# -- item: a bad sub-orchestration id ----------------------------------------------------
def test_a_sub_orchestration_id_over_the_limit_fails_its_caller_naming_the_id(
    store: Store,
) -> None:
    client = df.Client(store, app=app)
    long_id = "child-" + "x" * 300
    bad = client.start_new(bad_child_id, input=long_id)
    good = client.start_new(doubles, input=21)
    drain(Worker(app, store, activity_concurrency=0))
    failed = status(store, bad)
    assert failed.runtime_status is df.RuntimeStatus.FAILED
    assert failed.failure is not None
    assert failed.failure.error_type.endswith("InvalidInstanceIdError")
    assert "child-xxxx" in failed.failure.message and "306 characters" in failed.failure.message
    done = status(store, good)
    assert done.runtime_status is df.RuntimeStatus.COMPLETED and done.output == 42


def test_an_empty_sub_orchestration_id_fails_its_caller(store: Store) -> None:
    client = df.Client(store, app=app)
    iid = client.start_new(bad_child_id, input="")
    drain(Worker(app, store, activity_concurrency=0))
    st = status(store, iid)
    assert st.runtime_status is df.RuntimeStatus.FAILED
    assert st.failure is not None and "must not be empty" in st.failure.message


def test_default_child_ids_stay_within_the_limit_at_any_depth() -> None:
    chains: list[list[str]] = [[], []]
    for chain in chains:
        iid = "root"
        for depth in range(300):
            iid = child_instance_id(iid, depth % 7)
            chain.append(iid)
    assert chains[0] == chains[1]  # the same on every replay
    assert max(len(i) for i in chains[0]) == MAX_INSTANCE_ID_LENGTH
    assert len(set(chains[0])) == 300


def test_default_child_ids_are_stable_and_distinct_for_distinct_parents() -> None:
    a, b = "p" * 255 + "a", "p" * 255 + "b"
    assert child_instance_id(a, 3) == child_instance_id(a, 3)
    assert child_instance_id(a, 3) != child_instance_id(b, 3)
    assert child_instance_id(a, 3) != child_instance_id(a, 4)
    assert child_instance_id("short", 2) == "short:2"


def test_nested_sub_orchestrations_past_the_id_limit_complete(tmp_path: Path) -> None:
    store = open_store("memory://")
    client = df.Client(store, app=app)
    iid = client.start_new(nested, input=12, instance_id="r" * 240)
    drain(Worker(app, store, activity_concurrency=0))
    st = status(store, iid)
    assert st.runtime_status is df.RuntimeStatus.COMPLETED
    assert len(st.output) == 13 and all(len(i) <= MAX_INSTANCE_ID_LENGTH for i in st.output)
    store.close()


class RefusesOne:
    """A real store that refuses, as invalid, any step of instance ``refused`` that does not
    fail it: the shape of a commit whose payload or id the store cannot take."""

    def __init__(self, store: Store, refused: str) -> None:
        self.store = store
        self.refused = refused
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def commit_orchestrations(
        self, batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]], **kw: Any
    ) -> list[bool]:
        self.batches.append(len(batch))
        for item, commit in batch:
            if (
                item.instance.instance_id == self.refused
                and commit.status is not df.RuntimeStatus.FAILED
            ):
                raise df.PayloadError("value of type Widget is not JSON")
        return self.store.commit_orchestrations(batch, **kw)


def test_a_step_the_store_refuses_fails_only_its_own_instance(store: Store) -> None:
    client = df.Client(store, app=app)
    ids = [client.start_new(doubles, input=n) for n in range(4)]
    proxy = RefusesOne(store, ids[1])
    drain(Worker(app, proxy, activity_concurrency=0))  # type: ignore[arg-type]
    assert proxy.batches[0] == 4  # the four first steps were one batch
    for n, iid in enumerate(ids):
        st = status(store, iid)
        if iid == ids[1]:
            assert st.runtime_status is df.RuntimeStatus.FAILED
            assert st.failure is not None and "Widget is not JSON" in st.failure.message
        else:
            assert st.runtime_status is df.RuntimeStatus.COMPLETED and st.output == 2 * n


def test_a_refused_step_is_recorded_in_the_failed_instances_history(store: Store) -> None:
    client = df.Client(store, app=app)
    iid = client.start_new(doubles, input=1)
    drain(Worker(app, RefusesOne(store, iid), activity_concurrency=0))  # type: ignore[arg-type]
    kinds = [e.TYPE for e in client.get_history(iid).events]
    assert kinds[-1] == "ExecutionFailed" and "ExecutionStarted" in kinds
    assert "TaskScheduled" not in kinds


class RefusesCompletion:
    """A real store that refuses, as invalid, the step that would complete instance
    ``refused``, on every path a step can take to the store (batch, chain, fused)."""

    def __init__(self, store: Store, refused: str) -> None:
        self.store = store
        self.refused = refused

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def _check(self, iid: str, commit: OrchestrationCommit) -> None:
        if iid == self.refused and commit.status is df.RuntimeStatus.COMPLETED:
            raise df.PayloadError("value of type Widget is not JSON")

    def commit_orchestrations(
        self, batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]], **kw: Any
    ) -> list[bool]:
        for item, commit in batch:
            self._check(item.instance.instance_id, commit)
        return self.store.commit_orchestrations(batch, **kw)

    def complete_activity_with_step(self, item: Any, result: Any, step: Any, **kw: Any) -> bool:
        self._check(item.instance_id, step.commit)
        return self.store.complete_activity_with_step(item, result, step, **kw)

    def complete_activity_and_step(self, item: Any, result: Any, **kw: Any) -> Any:
        decide = kw.pop("decide")

        def checked(work: OrchestrationWorkItem) -> OrchestrationCommit:
            commit = decide(work)
            self._check(work.instance.instance_id, commit)
            return commit

        return self.store.complete_activity_and_step(item, result, decide=checked, **kw)


def test_a_refused_step_after_an_activity_keeps_the_result_and_fails_the_instance(
    store: Store,
) -> None:
    client = df.Client(store, app=app)
    iid = client.start_new(doubles, input=3)
    other = client.start_new(doubles, input=4)
    worker = Worker(app, RefusesCompletion(store, iid), activity_concurrency=0)  # type: ignore[arg-type]
    drain(worker)
    st = status(store, iid)
    assert st.runtime_status is df.RuntimeStatus.FAILED
    assert st.failure is not None and "Widget is not JSON" in st.failure.message
    results = [e for e in client.get_history(iid).events if e.TYPE == "TaskCompleted"]
    assert [e.result for e in results] == [6]  # type: ignore[attr-defined]
    assert status(store, other).output == 8


class BusyOnce:
    """A real store whose first batch commit fails as a busy SQLite database would."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.busy = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def commit_orchestrations(
        self, batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]], **kw: Any
    ) -> list[bool]:
        if self.busy:
            self.busy = False
            raise StoreLockedError("database is locked (busy for 5 s)")
        return self.store.commit_orchestrations(batch, **kw)


def test_a_busy_store_fails_no_instance_and_the_batch_runs_again(store: Store) -> None:
    client = df.Client(store, app=app)
    ids = [client.start_new(doubles, input=n) for n in range(3)]
    worker = Worker(app, BusyOnce(store), activity_concurrency=0)  # type: ignore[arg-type]
    with pytest.raises(StoreLockedError):
        worker.run_orchestration_batch(32)
    drain(worker)
    assert [status(store, iid).output for iid in ids] == [0, 2, 4]


# -- item: continue_as_new keeps events of its own step ---------------------------------
def test_events_raised_with_the_one_that_continues_as_new_reach_the_next_execution(
    store: Store,
) -> None:
    client = df.Client(store, app=app)
    worker = Worker(app, store, activity_concurrency=0)
    iid = client.start_new(collects, input=[])
    drain(worker)  # waiting for the first item
    for n in (1, 2, 3):
        client.raise_event(iid, "item", n)
    drain(worker)
    st = status(store, iid)
    assert st.runtime_status is df.RuntimeStatus.COMPLETED and st.output == [1, 2, 3]


# -- item: BaseException from orchestrator code -----------------------------------------
def test_sys_exit_in_an_orchestrator_fails_it_and_the_worker_keeps_running(
    tmp_path: Path,
) -> None:
    with df.Runtime(app, f"sqlite:///{tmp_path / 'x.db'}", activity_concurrency=1) as rt:
        iid = rt.client.start_new(exits, input=4)
        st = rt.client.wait_for_completion(iid, timeout=20)
        assert st.runtime_status is df.RuntimeStatus.FAILED
        assert st.failure is not None and st.failure.error_type == "SystemExit"
        after = rt.client.start_new(doubles, input=5)
        assert rt.client.wait_for_completion(after, timeout=20).output == 10
