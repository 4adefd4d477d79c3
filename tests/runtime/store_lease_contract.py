"""The Store contract, fourth part: activity timeouts carried to work items, and a stopping
worker's leases.

A mixin, not tests of its own: every backend's test class mixes in ``LeaseContract`` beside
the other contract parts and provides a ``store`` fixture.
"""

from __future__ import annotations

from datetime import timedelta

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import OrchestrationCommit, PlannedStep, Store
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration
from tests.runtime.store_contract import LEASE, T0, at, lock, start, step

FIVE = timedelta(seconds=5)


def timed(task_id: int, timeout: timedelta | None = FIVE) -> ScheduleActivity:
    """An activity call with a per-attempt timeout."""
    return ScheduleActivity(task_id, f"act{task_id}", task_id, timeout)


class LeaseContract:
    """Activity timeouts in work items, and ``release_leases``."""

    def test_a_locked_activity_carries_its_timeout(self, store: Store) -> None:
        start(store)
        step(store, lock(store), activities=[timed(1), timed(2, None)])
        first = store.lock_activity("w", now=T0, lease=LEASE)
        second = store.lock_activity("w", now=T0, lease=LEASE)
        assert first is not None and second is not None
        assert (first.timeout, second.timeout) == (FIVE, None)

    def test_an_activity_leased_in_its_commit_carries_its_timeout(self, store: Store) -> None:
        start(store)
        item = lock(store)
        commit = OrchestrationCommit(
            new_events=[m.event for m in item.messages],
            status=RuntimeStatus.RUNNING,
            consumed=[m.message_id for m in item.messages],
            activities=[timed(1)],
            lease_activities_to=("w", at(60)),
            lease_limit=1,
        )
        commit_orchestration(store, item, commit, now=T0)
        assert [a.timeout for a in commit.leased] == [FIVE]

    def test_the_next_activity_of_a_planned_chain_step_carries_its_timeout(
        self, store: Store
    ) -> None:
        start(store)
        item = lock(store)
        step(store, item, activities=[timed(1, None)])
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None
        result = h.TaskCompleted(timestamp=at(1), task_id=1, result=1)
        record = store.get_instance("i1")
        assert record is not None
        commit = OrchestrationCommit(
            new_events=[h.OrchestratorStarted(timestamp=at(1)), result],
            status=RuntimeStatus.RUNNING,
            activities=[timed(2, timedelta(milliseconds=1500))],
            lease_activities_to=("w", at(60)),
            lease_limit=1,
        )
        plan = PlannedStep(record, len(store.get_history("i1")), item.epoch, commit)
        assert store.complete_activity_with_step(act, result, plan, now=at(1))
        assert [a.timeout for a in commit.leased] == [timedelta(milliseconds=1500)]

    def test_release_leases_frees_the_owners_instances_and_activities(self, store: Store) -> None:
        start(store, "i1")
        step(store, lock(store), activities=[timed(1)])
        start(store, "i2")
        held = lock_orchestration(store, "w", now=T0, lease=LEASE)
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert held is not None and act is not None
        assert store.release_leases("w") == 2
        again = lock_orchestration(store, "w2", now=at(1), lease=LEASE)
        retaken = store.lock_activity("w2", now=at(1), lease=LEASE)
        assert again is not None and again.instance.instance_id == "i2"
        assert retaken is not None and (retaken.work_id, retaken.attempt) == (act.work_id, 2)

    def test_release_leases_leaves_other_owners_leases_alone(self, store: Store) -> None:
        start(store)
        step(store, lock(store), activities=[timed(1)])
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None
        assert store.release_leases("someone-else") == 0
        assert store.lock_activity("w2", now=at(1), lease=LEASE) is None
        assert store.renew_activity_lease(act, until=at(90))

    def test_work_of_a_released_lease_can_no_longer_be_completed_by_its_old_owner(
        self, store: Store
    ) -> None:
        start(store)
        step(store, lock(store), activities=[timed(1)])
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None
        store.release_leases("w")
        assert store.renew_activity_lease(act, until=at(90)) is False
