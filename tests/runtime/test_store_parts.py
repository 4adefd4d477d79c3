"""A client needs only the store's client part, a worker only its worker part, and the
worker treats activity leases as opaque tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

import durableflow as df
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client
from durableflow.runtime.store import MemoryStore, SqliteStore, Store, open_store
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    ClientStore,
    OrchestrationCommit,
    WorkerStore,
)
from durableflow.runtime.worker import Worker
from tests.runtime.store_contract import T0

app = df.App()


@app.activity
def double(x: int) -> int:
    return 2 * x


@app.orchestrator
def chain_then_fan_out(ctx: df.OrchestrationContext, n: int) -> Generator[Any, Any, int]:
    total = 0
    for i in range(n):
        total += yield ctx.call_activity("double", i)
    parts = yield ctx.task_all([ctx.call_activity("double", i) for i in range(n)])
    return total + sum(parts)


def members(protocol: type) -> set[str]:
    names = {n for n in vars(protocol) if not n.startswith("_")}
    return names | set(getattr(protocol, "__annotations__", {}))


class Narrowed:
    """A real store seen through one protocol: any other attribute does not exist."""

    def __init__(self, store: Store, protocol: type) -> None:
        self._store = store
        self._protocol = protocol
        self._names = members(protocol)

    def __getattr__(self, name: str) -> Any:
        if name not in self._names:
            raise AttributeError(f"{name} is not part of {self._protocol.__name__}")
        return getattr(self._store, name)


def test_store_is_exactly_the_client_part_and_the_worker_part() -> None:
    assert members(Store) <= members(ClientStore) | members(WorkerStore)
    assert members(ClientStore) & members(WorkerStore) == {"url", "close"}


BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def open_backend(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """A fresh store of kind ``backend``."""
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SqliteStore(str(tmp_path / "s.db"))
    return open_store(request.getfixturevalue("pg_url"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_client_and_a_worker_each_given_only_their_part_run_an_instance(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = open_backend(backend, tmp_path, request)
    client = Client(Narrowed(store, ClientStore))  # type: ignore[arg-type]
    worker = Worker(app, Narrowed(store, WorkerStore))  # type: ignore[arg-type]
    with worker:
        iid = client.start_new("chain_then_fan_out", input=4)
        state = client.wait_for_completion(iid, timeout=60)
    store.close()

    assert state.runtime_status is RuntimeStatus.COMPLETED
    assert state.output == 2 * (0 + 1 + 2 + 3) * 2


class RelabellingStore:
    """A real store whose activity leases the worker sees are fresh tokens of this proxy's.

    Every lease handed out is swapped for an unrelated one (and the item's owner and expiry
    for nonsense); every item handed back is swapped back before the real store sees it. A
    worker that read anything in a lease, or rebuilt one, would reach the store with a lease
    it does not know and fail.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._real: dict[ActivityLease, ActivityWorkItem] = {}
        self.url = store.url
        self.issued = 0

    def _out(self, item: ActivityWorkItem) -> ActivityWorkItem:
        self.issued += 1
        token = ActivityLease((object(),))
        self._real[token] = item
        return dataclasses.replace(item, lease=token, lease_owner="?", lease_expires=T0)

    def _in(self, item: ActivityWorkItem) -> ActivityWorkItem:
        real = self._real.get(item.lease)
        if real is None:
            raise AssertionError(f"the worker handed back a lease it was never given: {item}")
        return real

    def _relabel(self, commit: OrchestrationCommit) -> None:
        commit.leased[:] = [self._out(i) for i in commit.leased]

    def lock_activity(self, owner: str, **kw: Any) -> ActivityWorkItem | None:
        item = self._store.lock_activity(owner, **kw)
        return None if item is None else self._out(item)

    def lock_orchestrations(self, owner: str, *, results: Any = (), **kw: Any) -> Any:
        results = [(self._in(i), ev) for i, ev in results]
        return self._store.lock_orchestrations(owner, results=results, **kw)

    def commit_orchestrations(self, batch: Any, **kw: Any) -> list[bool]:
        applied = self._store.commit_orchestrations(batch, **kw)
        for _, commit in batch:
            self._relabel(commit)
        return applied

    def complete_activity(self, item: ActivityWorkItem, *a: Any, **kw: Any) -> None:
        self._store.complete_activity(self._in(item), *a, **kw)

    def complete_activity_and_step(self, item: ActivityWorkItem, *a: Any, **kw: Any) -> Any:
        out = self._store.complete_activity_and_step(self._in(item), *a, **kw)
        if out is not None:
            self._relabel(out[1])
        return out

    def complete_activity_with_step(
        self, item: ActivityWorkItem, result: Any, step: Any, **kw: Any
    ) -> bool:
        applied = self._store.complete_activity_with_step(self._in(item), result, step, **kw)
        self._relabel(step.commit)
        return applied

    def abandon_activity(self, item: ActivityWorkItem) -> None:
        self._store.abandon_activity(self._in(item))

    def renew_activity_lease(self, item: ActivityWorkItem, **kw: Any) -> bool:
        return self._store.renew_activity_lease(self._in(item), **kw)

    def __getattr__(self, name: str) -> Any:  # the parts with no activity lease in them
        return getattr(self._store, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_worker_only_hands_back_the_leases_it_was_given(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = open_backend(backend, tmp_path, request)
    proxy = RelabellingStore(store)
    client = Client(store)
    with Worker(app, proxy) as worker:  # type: ignore[arg-type]
        iids = [client.start_new("chain_then_fan_out", input=5) for _ in range(3)]
        worker.wake()
        states = [client.wait_for_completion(i, timeout=60) for i in iids]
    store.close()

    assert [s.runtime_status for s in states] == [RuntimeStatus.COMPLETED] * 3
    assert [s.output for s in states] == [2 * 10 * 2] * 3
    assert proxy.issued >= 3 * 10  # every activity went through a relabelled lease
