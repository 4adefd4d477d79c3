"""The Store contract, second part: activities, purge, wake-up time, concurrency, closing.

A mixin, not tests of its own: every backend's test class mixes in ``WorkContract`` beside
``StoreContract`` (``tests/runtime/store_contract.py``) and provides a ``store`` fixture.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import (
    InstanceAlreadyExistsError,
    InvalidInstanceIdError,
    InvalidStateError,
    StoreError,
)
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    ActivityWorkItem,
    LeaseLostError,
    NewInstance,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
    Store,
)
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration
from tests.runtime.store_contract import LEASE, T0, at, lock, raised, start, step


class WorkContract:
    """Activities, purge, wake-up time, concurrency and closing, for every backend."""

    # -- activities -----------------------------------------------------------------------
    def _with_activities(self, store: Store, n: int = 2) -> None:
        start(store)
        acts = [ScheduleActivity(i, f"act{i}", i) for i in range(1, n + 1)]
        step(store, lock(store), activities=acts)

    def test_lock_activity_returns_none_without_work(self, store: Store) -> None:
        assert store.lock_activity("w", now=T0, lease=LEASE) is None

    def test_activities_are_locked_oldest_first(self, store: Store) -> None:
        self._with_activities(store)
        names = [store.lock_activity("w", now=T0, lease=LEASE) for _ in range(3)]
        assert [a.name if a else None for a in names] == ["act1", "act2", None]

    def test_expired_activity_lease_is_retaken_as_the_next_attempt(self, store: Store) -> None:
        self._with_activities(store, 1)
        first = store.lock_activity("w1", now=T0, lease=LEASE)
        assert store.lock_activity("w2", now=at(59), lease=LEASE) is None
        second = store.lock_activity("w2", now=at(60), lease=LEASE)
        assert first is not None and second is not None
        assert second.attempt == 2 and second.lease != first.lease
        assert (second.instance_id, second.task_id) == (first.instance_id, first.task_id)

    def test_complete_activity_queues_the_result_and_deletes_the_activity(
        self, store: Store
    ) -> None:
        self._with_activities(store, 1)
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None
        done = h.TaskCompleted(timestamp=at(1), task_id=act.task_id, result={"r": 1})
        store.complete_activity(act, done, now=at(1))
        assert store.lock_activity("w", now=at(999), lease=LEASE) is None
        (msg,) = lock(store, now=at(1)).messages
        assert (msg.event, msg.execution_id) == (done, "x1")

    def test_complete_activity_after_losing_the_lease_raises_and_queues_nothing(
        self, store: Store
    ) -> None:
        self._with_activities(store, 1)
        stale = store.lock_activity("w1", now=T0, lease=LEASE)
        assert stale is not None and store.lock_activity("w2", now=at(60), lease=LEASE)
        with pytest.raises(LeaseLostError, match="act1"):
            store.complete_activity(stale, h.TaskCompleted(timestamp=T0, task_id=1), now=at(61))
        assert lock_orchestration(store, "w", now=at(61), lease=LEASE) is None

    def test_abandoned_activity_can_be_locked_again(self, store: Store) -> None:
        self._with_activities(store, 1)
        act = store.lock_activity("w1", now=T0, lease=LEASE)
        assert act is not None
        store.abandon_activity(act)
        again = store.lock_activity("w2", now=T0, lease=LEASE)
        assert again is not None and (again.instance_id, again.task_id) == (act.instance_id, 1)

    def test_renewed_activity_lease_holds_off_other_workers(self, store: Store) -> None:
        self._with_activities(store, 1)
        act = store.lock_activity("w1", now=T0, lease=LEASE)
        assert act is not None and store.renew_activity_lease(act, until=at(120))
        assert store.lock_activity("w2", now=at(119), lease=LEASE) is None
        store.complete_activity(act, h.TaskCompleted(timestamp=T0, task_id=1), now=at(119))

    def test_renewing_a_lost_activity_lease_returns_false(self, store: Store) -> None:
        self._with_activities(store, 1)
        act = store.lock_activity("w1", now=T0, lease=LEASE)
        assert act is not None and store.lock_activity("w2", now=at(60), lease=LEASE)
        assert store.renew_activity_lease(act, until=at(500)) is False

    # -- purge ----------------------------------------------------------------------------
    # -- batches ---------------------------------------------------------------------------
    def test_lock_orchestrations_leases_distinct_instances_up_to_the_limit(
        self, store: Store
    ) -> None:
        for iid in ("b1", "b2", "b3"):
            start(store, iid)
        items = store.lock_orchestrations("w", now=T0, lease=LEASE, limit=2)
        assert [i.instance.instance_id for i in items] == ["b1", "b2"]
        rest = store.lock_orchestrations("w2", now=T0, lease=LEASE, limit=5)
        assert [i.instance.instance_id for i in rest] == ["b3"]

    def test_commit_orchestrations_applies_held_leases_and_reports_lost_ones(
        self, store: Store
    ) -> None:
        start(store, "b1")
        start(store, "b2")
        first, second = store.lock_orchestrations("w", now=T0, lease=LEASE, limit=2)
        thief = store.lock_orchestrations("w2", now=at(60), lease=LEASE, limit=1)
        assert [i.instance.instance_id for i in thief] == ["b1"]
        batch = [
            (
                it,
                OrchestrationCommit(
                    new_events=[m.event for m in it.messages],
                    status=RuntimeStatus.RUNNING,
                    consumed=[m.message_id for m in it.messages],
                ),
            )
            for it in (first, second)
        ]
        assert store.commit_orchestrations(batch, now=at(61)) == [False, True]
        assert store.get_history("b1") == []
        assert len(store.get_history("b2")) == 1

    def test_commit_orchestrations_with_one_invalid_step_writes_none_of_the_batch(
        self, store: Store
    ) -> None:
        start(store, "b1")
        start(store, "b2")
        items = store.lock_orchestrations("w", now=T0, lease=LEASE, limit=2)
        batch = [
            (
                it,
                OrchestrationCommit(
                    new_events=[m.event for m in it.messages],
                    status=RuntimeStatus.RUNNING,
                    consumed=[m.message_id for m in it.messages],
                    new_instances=[
                        NewInstance("", "child", "x1", None, T0, it.instance.instance_id, 0)
                    ]
                    if it.instance.instance_id == "b2"
                    else [],
                ),
            )
            for it in items
        ]
        with pytest.raises(InvalidInstanceIdError):
            store.commit_orchestrations(batch, now=at(1))
        assert store.get_history("b1") == [] and store.get_history("b2") == []
        assert store.commit_orchestrations(batch[:1], now=at(1)) == [True]

    def test_commit_can_lease_its_new_activities_to_the_committer(self, store: Store) -> None:
        start(store)
        item = lock(store)
        acts = [ScheduleActivity(i, f"act{i}", {"n": i}) for i in range(3)]
        commit = OrchestrationCommit(
            new_events=[m.event for m in item.messages],
            status=RuntimeStatus.RUNNING,
            consumed=[m.message_id for m in item.messages],
            activities=acts,
            lease_activities_to=("w", at(60)),
            lease_limit=2,
        )
        commit_orchestration(store, item, commit, now=T0)
        assert [(a.name, a.input, a.attempt, a.lease_owner) for a in commit.leased] == [
            ("act0", {"n": 0}, 1, "w"),
            ("act1", {"n": 1}, 1, "w"),
        ]
        other = store.lock_activity("w2", now=T0, lease=LEASE)
        assert other is not None and other.name == "act2"
        assert store.lock_activity("w2", now=T0, lease=LEASE) is None
        done = h.TaskCompleted(timestamp=T0, task_id=0, result=1)
        store.complete_activity(commit.leased[0], done, now=T0)

    # -- result and next step in one transaction -----------------------------------------
    def _leased_activity(self, store: Store) -> ActivityWorkItem:
        self._with_activities(store, 1)
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None
        return act

    def test_complete_activity_and_step_applies_the_decided_step(self, store: Store) -> None:
        act = self._leased_activity(store)
        done = h.TaskCompleted(timestamp=T0, task_id=1, result="r")
        seen: list[list[h.HistoryEvent]] = []

        def decide(work: OrchestrationWorkItem) -> OrchestrationCommit:
            seen.append([m.event for m in work.messages])
            return OrchestrationCommit(
                new_events=[m.event for m in work.messages],
                status=RuntimeStatus.COMPLETED,
                output="r",
                consumed=[m.message_id for m in work.messages],
            )

        out = store.complete_activity_and_step(act, done, now=T0, lease=LEASE, decide=decide)
        assert out is not None and seen == [[done]]
        assert store.get_history("i1")[-1] == done
        record = store.get_instance("i1")
        assert record is not None and record.status is RuntimeStatus.COMPLETED
        assert store.lock_activity("w2", now=at(600), lease=LEASE) is None

    def test_complete_activity_and_step_leaves_a_held_instance_alone(self, store: Store) -> None:
        act = self._leased_activity(store)
        store.send(OutgoingMessage("i1", raised("poke")), now=T0)
        holder = lock(store, "other")
        done = h.TaskCompleted(timestamp=T0, task_id=1, result="r")

        def decide(work: OrchestrationWorkItem) -> OrchestrationCommit:
            raise AssertionError("must not be called while another worker holds the instance")

        assert (
            store.complete_activity_and_step(act, done, now=T0, lease=LEASE, decide=decide) is None
        )
        store.abandon_orchestration(holder)
        assert done in [m.event for m in lock(store).messages]

    def test_complete_activity_and_step_with_no_decision_records_only_the_result(
        self, store: Store
    ) -> None:
        act = self._leased_activity(store)
        done = h.TaskCompleted(timestamp=T0, task_id=1, result="r")
        assert (
            store.complete_activity_and_step(
                act, done, now=T0, lease=LEASE, decide=lambda work: None
            )
            is None
        )
        assert done in [m.event for m in lock(store, "w2").messages]

    def test_complete_activity_and_step_after_losing_the_lease_writes_nothing(
        self, store: Store
    ) -> None:
        act = self._leased_activity(store)
        retaken = store.lock_activity("w2", now=at(60), lease=LEASE)
        assert retaken is not None
        done = h.TaskCompleted(timestamp=T0, task_id=1, result="r")
        with pytest.raises(LeaseLostError):
            store.complete_activity_and_step(
                act, done, now=at(61), lease=LEASE, decide=lambda work: None
            )
        assert [e for e in store.get_history("i1") if isinstance(e, h.TaskCompleted)] == []

    def test_purge_of_an_unknown_instance_returns_false(self, store: Store) -> None:
        assert store.purge("ghost") is False

    def test_purge_of_a_live_instance_raises_and_keeps_it(self, store: Store) -> None:
        start(store)
        with pytest.raises(InvalidStateError, match="PENDING"):
            store.purge("i1")
        assert store.get_instance("i1") is not None

    def test_purge_removes_the_instance_and_everything_it_owns(self, store: Store) -> None:
        start(store)
        item = lock(store)
        store.send(OutgoingMessage("i1", raised(), visible_at=at(10)), now=T0)
        step(store, item, status=RuntimeStatus.TERMINATED, activities=[ScheduleActivity(1, "a")])
        assert store.purge("i1") is True
        assert store.get_instance("i1") is None and store.get_history("i1") == []
        assert lock_orchestration(store, "w", now=at(99), lease=LEASE) is None
        assert store.lock_activity("w", now=at(99), lease=LEASE) is None

    # -- wake-up time ---------------------------------------------------------------------
    def test_next_wake_time_is_none_when_idle(self, store: Store) -> None:
        assert store.next_wake_time() is None

    def test_next_wake_time_is_the_earliest_queued_message(self, store: Store) -> None:
        start(store)
        step(store, lock(store))
        store.send(OutgoingMessage("i1", raised(), visible_at=at(50)), now=T0)
        store.send(OutgoingMessage("i1", raised(), visible_at=at(20)), now=T0)
        assert store.next_wake_time() == at(20)

    def test_next_wake_time_counts_queued_activities(self, store: Store) -> None:
        self._with_activities(store, 1)
        assert store.next_wake_time() == T0

    def test_next_wake_time_of_leased_work_is_its_lease_expiry(self, store: Store) -> None:
        start(store)
        lock(store)
        assert store.next_wake_time() == T0 + LEASE

    # -- notifications --------------------------------------------------------------------
    def test_a_subscription_closes_and_closing_it_again_does_nothing(self, store: Store) -> None:
        subscription = store.subscribe(lambda: None)
        subscription.close()
        subscription.close()

    def test_the_store_works_as_before_while_subscribed(self, store: Store) -> None:
        subscription = store.subscribe(lambda: None)
        self._with_activities(store, 1)
        act = store.lock_activity("w", now=T0, lease=LEASE)
        assert act is not None
        store.complete_activity(act, h.TaskCompleted(timestamp=at(1), task_id=1), now=at(1))
        assert [type(m.event) for m in lock(store, now=at(1)).messages] == [h.TaskCompleted]
        subscription.close()

    def test_a_closed_subscription_is_told_of_no_later_work(self, store: Store) -> None:
        calls: list[int] = []
        store.subscribe(lambda: calls.append(1)).close()
        self._with_activities(store, 1)
        store.send(OutgoingMessage("i1", raised(), visible_at=at(5)), now=T0)
        assert calls == []

    # -- payloads, concurrency, lifecycle -------------------------------------------------
    def test_payloads_read_back_as_json_would(self, store: Store) -> None:
        start(store, input={"t": (1, 2)})
        assert store.get_instance("i1").input == {"t": [1, 2]}  # type: ignore[union-attr]

    def test_concurrent_starts_of_one_id_have_exactly_one_winner(self, store: Store) -> None:
        outcomes: list[str] = []
        barrier = threading.Barrier(32)

        def attempt(n: int) -> None:
            barrier.wait()
            try:
                start(store, "singleton", xid=f"x{n}")
                outcomes.append("won")
            except InstanceAlreadyExistsError:
                outcomes.append("lost")

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["lost"] * 31 + ["won"]
        assert len(lock(store).messages) == 1

    def test_concurrent_lockers_never_hold_the_same_instance(self, store: Store) -> None:
        instances, steps_each, workers = 8, 4, 6
        for i in range(instances):
            start(store, f"i{i}")
        holding: set[str] = set()
        guard = threading.Lock()
        problems: list[str] = []

        def work(owner: str) -> None:
            idle = 0
            while idle < 50:
                item = lock_orchestration(store, owner, now=T0, lease=timedelta(hours=1))
                if item is None:
                    idle += 1
                    continue
                idle = 0
                iid, done = item.instance.instance_id, len(item.history) + 1
                with guard:
                    if iid in holding:
                        problems.append(f"{iid} locked twice")
                    holding.add(iid)
                more = [OutgoingMessage(iid, raised())] if done < steps_each else []
                with guard:
                    holding.discard(iid)
                try:
                    step(store, item, new_events=[raised(owner, len(item.history))], messages=more)
                except LeaseLostError as exc:
                    problems.append(str(exc))

        threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert problems == []
        for i in range(instances):
            inputs = [e.input for e in store.get_history(f"i{i}")]  # type: ignore[attr-defined]
            assert inputs == list(range(steps_each))

    def test_using_a_closed_store_raises_store_error(self, store: Store) -> None:
        store.close()
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.get_instance("i1")
