"""The Store contract, fourth part: activity timeouts carried to work items, a stopping
worker's leases, and activity leases that only the store reads.

A mixin, not tests of its own: every backend's test class mixes in ``LeaseContract`` beside
the other contract parts and provides a ``store`` fixture.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import LeaseLostError, OrchestrationCommit, PlannedStep, Store
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration
from tests.runtime.store_contract import LEASE, T0, at, lock, start, step
from tests.runtime.store_step_contract import leases_next, running

FIVE = timedelta(seconds=5)


def timed(task_id: int, timeout: timedelta | None = FIVE) -> ScheduleActivity:
    """An activity call with a per-attempt timeout."""
    return ScheduleActivity(task_id, f"act{task_id}", task_id, timeout)


class LeaseContract:
    """Activity timeouts in work items, ``release_leases``, and opaque activity leases.

    A worker keys what it runs by ``ActivityWorkItem.lease`` and reads nothing in it, so a
    store must give every grant a lease of its own (whatever it does with its rows) and must
    recognise a lease by that value alone, not by the item's other fields.
    """

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
        assert retaken is not None and retaken.attempt == 2
        assert (retaken.instance_id, retaken.task_id) == (act.instance_id, act.task_id)

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

    def test_each_grant_of_an_activity_is_a_lease_of_its_own(self, store: Store) -> None:
        start(store)
        step(store, lock(store), activities=[timed(1)])
        first = store.lock_activity("w", now=T0, lease=LEASE)
        assert first is not None
        store.abandon_activity(first)
        second = store.lock_activity("w", now=T0, lease=LEASE)
        assert second is not None
        third = store.lock_activity("w", now=at(60), lease=LEASE)  # second's lease expired
        assert third is not None
        assert len({first.lease, second.lease, third.lease}) == 3

    def test_a_renewed_lease_is_the_same_lease(self, store: Store) -> None:
        start(store)
        step(store, lock(store), activities=[timed(1)])
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None and store.renew_activity_lease(act, until=at(90))
        store.complete_activity(act, h.TaskCompleted(timestamp=at(70), task_id=1), now=at(70))
        assert h.TaskCompleted(timestamp=at(70), task_id=1) in [
            m.event for m in lock(store, now=at(70)).messages
        ]

    def test_the_next_activity_of_a_chain_step_has_a_new_lease(self, store: Store) -> None:
        r = running(store)
        commit = leases_next(r.plan.commit, until=at(60))
        assert store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(1))
        (following,) = commit.leased
        assert following.lease != r.activity.lease

    def test_the_store_recognises_a_lease_by_its_token_alone(self, store: Store) -> None:
        start(store)
        step(store, lock(store), activities=[timed(1)])
        stale = store.lock_activity("w1", now=T0, lease=LEASE)
        holder = store.lock_activity("w2", now=at(60), lease=LEASE)
        assert stale is not None and holder is not None
        # The stale item dressed as the holder's: refused, its lease is the old one.
        forged = dataclasses.replace(
            stale,
            lease_owner=holder.lease_owner,
            attempt=holder.attempt,
            lease_expires=holder.lease_expires,
        )
        assert not store.renew_activity_lease(forged, until=at(90))
        with pytest.raises(LeaseLostError):
            store.complete_activity(
                forged, h.TaskCompleted(timestamp=at(61), task_id=1), now=at(61)
            )
        # The holder's lease, carried by an item whose other fields say otherwise: accepted.
        relabelled = dataclasses.replace(
            stale, lease=holder.lease, lease_owner="w1", attempt=1, lease_expires=T0
        )
        assert store.renew_activity_lease(relabelled, until=at(90))
        done = h.TaskCompleted(timestamp=at(62), task_id=1)
        store.complete_activity(relabelled, done, now=at(62))
        assert done in [m.event for m in lock(store, now=at(62)).messages]
