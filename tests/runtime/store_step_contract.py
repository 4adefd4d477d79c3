"""The Store contract, third part: steps decided ahead of time, and results recorded in bulk.

A mixin, not tests of its own: every backend's test class mixes in ``StepContract`` beside
the other contract parts and provides a ``store`` fixture.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import pytest

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    ActivityWorkItem,
    LeaseLostError,
    OrchestrationCommit,
    OutgoingMessage,
    PlannedStep,
    Store,
)
from durableflow.runtime.store.composites import lock_orchestration
from tests.runtime.store_contract import LEASE, T0, at, lock, raised, start, step


@dataclass
class Running:
    """An instance with one activity leased to worker ``w``, and what a worker knows of it."""

    activity: ActivityWorkItem
    result: h.TaskCompleted
    plan: PlannedStep


def running(store: Store, iid: str = "i1") -> Running:
    """Start ``iid``, schedule one activity, lease it, and plan the step its result wakes."""
    start(store, iid)
    item = lock(store)
    step(store, item, activities=[ScheduleActivity(1, "act", {"n": 1})])
    activity = store.lock_activity("w", now=T0, lease=LEASE)
    assert activity is not None
    result = h.TaskCompleted(timestamp=at(1), task_id=1, result={"r": 1})
    record = store.get_instance(iid)
    assert record is not None
    commit = OrchestrationCommit(
        new_events=[h.OrchestratorStarted(timestamp=at(1)), result],
        status=RuntimeStatus.COMPLETED,
        output={"r": 1},
    )
    history_len = len(store.get_history(iid))
    return Running(activity, result, PlannedStep(record, history_len, item.epoch, commit))


def leases_next(commit: OrchestrationCommit, until: datetime) -> OrchestrationCommit:
    """Make the planned ``commit`` schedule activity 2 and lease it to worker ``w``."""
    commit.status, commit.output = RuntimeStatus.RUNNING, None
    commit.activities = [ScheduleActivity(2, "next", 2)]
    commit.lease_activities_to, commit.lease_limit = ("w", until), 1
    return commit


def completed(store: Store, iid: str = "i1") -> list[h.TaskCompleted]:
    """The TaskCompleted events in ``iid``'s history."""
    return [e for e in store.get_history(iid) if isinstance(e, h.TaskCompleted)]


class StepContract:
    """``complete_activity_with_step`` and ``lock_orchestrations(results=...)``."""

    def test_planned_step_is_applied_with_the_result(self, store: Store) -> None:
        r = running(store)
        assert store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(1))
        assert store.get_history("i1")[-2:] == r.plan.commit.new_events
        record = store.get_instance("i1")
        assert record is not None and record.status is RuntimeStatus.COMPLETED
        assert record.output == {"r": 1}
        assert store.lock_activity("w2", now=at(600), lease=LEASE) is None
        assert lock_orchestration(store, "w2", now=at(600), lease=LEASE) is None

    def test_planned_step_can_lease_its_activities_to_the_committer(self, store: Store) -> None:
        r = running(store)
        commit = leases_next(r.plan.commit, until=at(60))
        assert store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(1))
        assert [(a.name, a.input, a.lease_owner) for a in commit.leased] == [("next", 2, "w")]
        assert store.lock_activity("w2", now=at(2), lease=LEASE) is None

    def test_finished_activity_lease_does_not_hold_for_the_next_one(self, store: Store) -> None:
        r = running(store)
        commit = leases_next(r.plan.commit, until=at(60))
        assert store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(1))
        with pytest.raises(LeaseLostError):
            store.complete_activity(r.activity, r.result, now=at(2))
        assert not store.renew_activity_lease(r.activity, until=at(90))
        (following,) = commit.leased
        done = h.TaskCompleted(timestamp=at(2), task_id=2, result=2)
        store.complete_activity(following, done, now=at(2))
        assert done in [m.event for m in lock(store, now=at(2)).messages]

    def test_planned_step_that_leases_the_next_activity_after_losing_the_lease_writes_nothing(
        self, store: Store
    ) -> None:
        r = running(store)
        commit = leases_next(r.plan.commit, until=at(120))
        retaken = store.lock_activity("w2", now=at(60), lease=LEASE)
        assert retaken is not None
        with pytest.raises(LeaseLostError):
            store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(61))
        assert completed(store) == [] and commit.leased == []
        assert store.lock_activity("w3", now=at(61), lease=LEASE) is None
        store.complete_activity(retaken, r.result, now=at(62))
        assert completed(store) == []
        assert r.result in [m.event for m in lock(store, now=at(62)).messages]

    def test_planned_step_after_the_history_grew_records_only_the_result(
        self, store: Store
    ) -> None:
        r = running(store)
        store.send(OutgoingMessage("i1", raised("poke")), now=T0)
        step(store, lock(store, now=at(1)), now=at(1))  # another worker stepped it meanwhile
        assert not store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(2))
        assert completed(store) == []
        assert r.result in [m.event for m in lock(store, now=at(2)).messages]

    def test_planned_step_with_other_mail_waiting_records_only_the_result(
        self, store: Store
    ) -> None:
        r = running(store)
        store.send(OutgoingMessage("i1", raised("poke")), now=T0)
        assert not store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(1))
        inbox = [m.event for m in lock(store, now=at(1)).messages]
        assert inbox == [raised("poke"), r.result]

    def test_planned_step_on_a_held_instance_records_only_the_result(self, store: Store) -> None:
        r = running(store)
        store.send(OutgoingMessage("i1", raised("poke")), now=T0)
        holder = lock(store, "other")
        assert not store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(1))
        store.abandon_orchestration(holder)
        assert completed(store) == []
        assert r.result in [m.event for m in lock(store, now=at(1)).messages]

    def test_planned_step_for_an_older_execution_records_only_the_result(
        self, store: Store
    ) -> None:
        r = running(store)
        older = dataclasses.replace(r.plan.instance, execution_id="older")
        stale = dataclasses.replace(r.plan, instance=older)
        assert not store.complete_activity_with_step(r.activity, r.result, stale, now=at(1))
        assert completed(store) == []

    def test_planned_step_after_losing_the_activity_lease_writes_nothing(
        self, store: Store
    ) -> None:
        r = running(store)
        assert store.lock_activity("w2", now=at(60), lease=LEASE) is not None
        with pytest.raises(LeaseLostError):
            store.complete_activity_with_step(r.activity, r.result, r.plan, now=at(61))
        assert completed(store) == []
        assert lock_orchestration(store, "w3", now=at(61), lease=LEASE) is None

    def test_lock_records_results_and_locks_the_instances_they_wake(self, store: Store) -> None:
        first, second = running(store, "i1"), running(store, "i2")
        items = store.lock_orchestrations(
            "w",
            now=at(1),
            lease=LEASE,
            limit=10,
            results=[(first.activity, first.result), (second.activity, second.result)],
        )
        assert sorted(i.instance.instance_id for i in items) == ["i1", "i2"]
        assert all([m.event for m in i.messages] == [first.result] for i in items)
        assert store.lock_activity("w2", now=at(600), lease=LEASE) is None

    def test_lock_drops_a_result_whose_activity_lease_was_lost(self, store: Store) -> None:
        r = running(store)
        assert store.lock_activity("w2", now=at(60), lease=LEASE) is not None
        items = store.lock_orchestrations(
            "w", now=at(61), lease=LEASE, limit=10, results=[(r.activity, r.result)]
        )
        assert items == []
        assert store.get_instance("i1") is not None and completed(store) == []

    def test_lock_with_results_and_no_room_records_them_all_the_same(self, store: Store) -> None:
        r = running(store)
        assert (
            store.lock_orchestrations(
                "w", now=at(1), lease=LEASE, limit=0, results=[(r.activity, r.result)]
            )
            == []
        )
        assert [m.event for m in lock(store, now=at(1)).messages] == [r.result]
