"""The Store contract for the worker registry (``heartbeat_worker``, ``list_workers``).

A mixin, like the other contract suites: every backend's test class mixes it in and
provides a ``store`` fixture.
"""

from __future__ import annotations

from datetime import timedelta

from durableflow.core.actions import ScheduleActivity
from durableflow.runtime.store import Store
from tests.runtime.store_contract import LEASE, T0, at, lock, start, step


def beat(store: Store, owner: str, seconds: float, ttl: float = 30) -> None:
    """A heartbeat of ``owner`` at ``at(seconds)``, vouching for ``ttl`` seconds."""
    store.heartbeat_worker(
        owner, host="h1", pid=7, now=at(seconds), expires=at(seconds) + timedelta(seconds=ttl)
    )


class WorkersContract:
    """Worker registration, heartbeat, what each holds, unregistering, forgetting."""

    def test_no_workers_are_listed_before_one_beats(self, store: Store) -> None:
        assert store.list_workers(now=T0) == []

    def test_first_heartbeat_registers_and_later_ones_keep_the_start(self, store: Store) -> None:
        beat(store, "w1", 0)
        beat(store, "w1", 10)
        (record,) = store.list_workers(now=at(11))
        assert (record.owner, record.host, record.pid) == ("w1", "h1", 7)
        assert (record.started_at, record.heartbeat_at) == (at(0), at(10))
        assert record.expires_at == at(40) and record.alive(at(11))

    def test_a_worker_whose_heartbeat_expired_is_listed_as_dead(self, store: Store) -> None:
        beat(store, "w1", 0)
        (record,) = store.list_workers(now=at(31))
        assert not record.alive(at(31))

    def test_workers_are_listed_oldest_start_first(self, store: Store) -> None:
        beat(store, "late", 5)
        beat(store, "early", 1)
        assert [w.owner for w in store.list_workers(now=at(6))] == ["early", "late"]

    def test_list_workers_counts_the_leases_each_holds(self, store: Store) -> None:
        beat(store, "w1", 0)
        beat(store, "w2", 0)
        start(store, "i1")
        step(store, lock(store, "w1"), activities=[ScheduleActivity(1, "a")])
        start(store, "i2")
        lock(store, "w1")
        assert store.lock_activity("w2", now=T0, lease=LEASE) is not None
        counts = {w.owner: (w.orchestrations, w.activities) for w in store.list_workers(now=T0)}
        assert counts == {"w1": (1, 0), "w2": (0, 1)}

    def test_expired_leases_are_not_counted(self, store: Store) -> None:
        beat(store, "w1", 0, ttl=10_000)
        start(store, "i1")
        lock(store, "w1")
        (record,) = store.list_workers(now=T0 + LEASE + timedelta(seconds=1))
        assert record.orchestrations == 0

    def test_unregister_removes_the_worker(self, store: Store) -> None:
        beat(store, "w1", 0)
        store.unregister_worker("w1")
        store.unregister_worker("never-registered")
        assert store.list_workers(now=at(1)) == []

    def test_a_heartbeat_forgets_workers_dead_for_over_a_day(self, store: Store) -> None:
        beat(store, "dead", 0)
        day = 24 * 3600
        beat(store, "alive", day + 29)
        assert [w.owner for w in store.list_workers(now=at(day + 29))] == ["dead", "alive"]
        beat(store, "alive", day + 31)
        assert [w.owner for w in store.list_workers(now=at(day + 31))] == ["alive"]
