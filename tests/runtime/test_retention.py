"""Retention: the worker purges instances that ended longer ago than it keeps them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

import durableflow as df
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Worker
from durableflow.runtime.clock import FakeClock
from durableflow.runtime.retention import Retention
from durableflow.runtime.store import MemoryStore
from tests.runtime.test_purge_instances import ended

NOW = datetime(2030, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_purge_once_deletes_what_ended_before_the_kept_window_in_batches() -> None:
    store = MemoryStore()
    for n in range(5):
        ended(store, f"old-{n}", NOW - 10 * DAY, RuntimeStatus.COMPLETED)
    ended(store, "kept", NOW - 2 * DAY, RuntimeStatus.FAILED)
    retention = Retention(store, 7 * DAY, FakeClock(NOW), batch=2)
    assert retention.purge_once() == 5
    assert store.get_instance("kept") is not None


def test_purge_once_follows_the_clock() -> None:
    store = MemoryStore()
    ended(store, "i1", NOW - 2 * DAY, RuntimeStatus.COMPLETED)
    clock = FakeClock(NOW)
    retention = Retention(store, 7 * DAY, clock)
    assert retention.purge_once() == 0
    clock.advance(6 * DAY)
    assert retention.purge_once() == 1


def test_purge_once_stops_between_batches_when_asked() -> None:
    store = MemoryStore()
    for n in range(4):
        ended(store, f"old-{n}", NOW - 10 * DAY, RuntimeStatus.COMPLETED)
    stop = threading.Event()
    stop.set()
    assert Retention(store, DAY, FakeClock(NOW), batch=1).purge_once(stop) == 0


def test_retention_refuses_a_store_that_cannot_purge() -> None:
    with pytest.raises(TypeError, match="cannot purge"):
        Retention(object(), DAY, FakeClock(NOW))  # type: ignore[arg-type]


def test_retention_refuses_a_non_positive_age() -> None:
    with pytest.raises(ValueError, match="positive"):
        Retention(MemoryStore(), timedelta(0), FakeClock(NOW))


def test_a_worker_with_retain_purges_old_instances_on_start() -> None:
    store = MemoryStore()
    ended(store, "old", NOW - 40 * DAY, RuntimeStatus.COMPLETED)
    ended(store, "new", NOW - DAY, RuntimeStatus.COMPLETED)
    purged = threading.Event()
    real = store.purge_instances

    def watched(**kw: object) -> int:
        n = real(**kw)  # type: ignore[arg-type]
        purged.set()
        return n

    store.purge_instances = watched  # type: ignore[method-assign]
    worker = Worker(df.App(), store, clock=FakeClock(NOW), retain=30 * DAY)
    worker.start()
    try:
        assert purged.wait(30), "retention never ran"
    finally:
        worker.stop()
    assert store.get_instance("old") is None and store.get_instance("new") is not None
