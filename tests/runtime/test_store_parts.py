"""A client needs only the store's client part, a worker only its worker part."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

import durableflow as df
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client
from durableflow.runtime.store import MemoryStore, SqliteStore, Store
from durableflow.runtime.store.base import ClientStore, WorkerStore
from durableflow.runtime.worker import Worker

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


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_client_and_a_worker_each_given_only_their_part_run_an_instance(
    backend: str, tmp_path: Path
) -> None:
    store: Store = MemoryStore() if backend == "memory" else SqliteStore(str(tmp_path / "s.db"))
    client = Client(Narrowed(store, ClientStore))  # type: ignore[arg-type]
    worker = Worker(app, Narrowed(store, WorkerStore))  # type: ignore[arg-type]
    with worker:
        iid = client.start_new("chain_then_fan_out", input=4)
        state = client.wait_for_completion(iid, timeout=60)
    store.close()

    assert state.runtime_status is RuntimeStatus.COMPLETED
    assert state.output == 2 * (0 + 1 + 2 + 3) * 2
