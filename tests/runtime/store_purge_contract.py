"""The Store contract for bulk purges by age and status (``purge_instances``).

A mixin, like the other contract suites: every backend's test class mixes it in and
provides a ``store`` fixture.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from durableflow.core.actions import ScheduleActivity
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import OutgoingMessage, Store
from durableflow.runtime.store.composites import lock_orchestration
from tests.runtime.store_contract import LEASE, at, lock, raised, start, step

COMPLETED = RuntimeStatus.COMPLETED
FAILED = RuntimeStatus.FAILED
TERMINATED = RuntimeStatus.TERMINATED
ENDED = frozenset({COMPLETED, FAILED, TERMINATED})


def ended(
    store: Store, iid: str, at_s: float, status: RuntimeStatus = COMPLETED, **kw: object
) -> None:
    """Start ``iid`` and end it with ``status`` at ``at(at_s)``."""
    start(store, iid, now=at(0), xid=f"x-{iid}")
    step(store, lock(store, now=at(at_s)), now=at(at_s), status=status, **kw)  # type: ignore[arg-type]


def purge(store: Store, before: datetime, statuses: frozenset[RuntimeStatus] = ENDED) -> int:
    """Purge everything in one generous batch."""
    return store.purge_instances(completed_before=before, statuses=statuses, limit=1000)


class PurgeContract:
    """``purge_instances``: which instances go, that everything they own goes, batches."""

    def test_purge_instances_removes_exactly_those_ended_before_the_cutoff(
        self, store: Store
    ) -> None:
        for n, when in enumerate((10, 20, 30, 40)):
            ended(store, f"i{n}", when)
        assert purge(store, at(30)) == 2
        assert [store.get_instance(f"i{n}") is None for n in range(4)] == [
            True,
            True,
            False,
            False,
        ]

    def test_purge_instances_keeps_statuses_not_asked_for(self, store: Store) -> None:
        ended(store, "ok", 10, COMPLETED)
        ended(store, "bad", 10, FAILED)
        ended(store, "stopped", 10, TERMINATED)
        assert purge(store, at(99), frozenset({FAILED, TERMINATED})) == 2
        assert store.get_instance("ok") is not None
        assert store.get_instance("bad") is None and store.get_instance("stopped") is None

    def test_purge_instances_never_touches_a_running_instance(self, store: Store) -> None:
        start(store, "live", now=at(0))
        step(store, lock(store, now=at(1)), now=at(1))
        assert purge(store, at(10_000)) == 0
        assert store.get_instance("live") is not None

    def test_purge_instances_refuses_a_non_terminal_status(self, store: Store) -> None:
        with pytest.raises(ValueError, match="RUNNING"):
            store.purge_instances(
                completed_before=at(1), statuses=frozenset({RuntimeStatus.RUNNING}), limit=10
            )

    def test_purge_instances_refuses_an_empty_batch(self, store: Store) -> None:
        with pytest.raises(ValueError, match="at least 1"):
            store.purge_instances(completed_before=at(1), statuses=ENDED, limit=0)

    def test_purge_instances_deletes_one_bounded_batch_oldest_first(self, store: Store) -> None:
        for n, when in enumerate((50, 10, 40, 20, 30)):
            ended(store, f"i{n}", when)
        assert store.purge_instances(completed_before=at(99), statuses=ENDED, limit=2) == 2
        gone = {f"i{n}" for n in range(5) if store.get_instance(f"i{n}") is None}
        assert gone == {"i1", "i3"}  # ended at 10 and 20

    def test_purge_instances_removes_history_messages_timers_and_activities(
        self, store: Store
    ) -> None:
        start(store, "i1", now=at(0), xid="x1")
        item = lock(store, now=at(1))
        store.send(OutgoingMessage("i1", raised(), visible_at=at(5)), now=at(1))
        step(
            store,
            item,
            now=at(2),
            status=TERMINATED,
            activities=[ScheduleActivity(1, "a")],
            messages=[OutgoingMessage("i1", raised(), visible_at=at(500))],
        )
        assert purge(store, at(3)) == 1
        assert store.get_instance("i1") is None and store.get_history("i1") == []
        assert lock_orchestration(store, "w", now=at(10_000), lease=LEASE) is None
        assert store.lock_activity("w", now=at(10_000), lease=LEASE) is None
        assert store.next_wake_time() is None

    def test_a_purged_id_starts_afresh_without_stale_results(self, store: Store) -> None:
        ended(store, "i1", 10, output="old")
        assert purge(store, at(20)) == 1
        start(store, "i1", now=at(30), xid="x-new")
        record = store.get_instance("i1")
        assert record is not None
        assert record.status is RuntimeStatus.PENDING and record.output is None
        item = lock(store, now=at(31))
        assert [type(m.event).__name__ for m in item.messages] == ["ExecutionStarted"]
        assert store.get_history("i1") == []
