"""The Store contract: every backend's test class mixes this in and provides ``store``.

Times are injected (``now=``), so nothing here sleeps; leases expire by moving ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceIdError,
    PayloadError,
)
from durableflow.core.history import FailureDetails
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    InstanceQuery,
    LeaseLostError,
    NewInstance,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
    Store,
)
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration

T0 = datetime(2030, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=60)
RUNNING = RuntimeStatus.RUNNING


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def new_instance(
    iid: str = "i1", name: str = "orch", input: Any = None, xid: str = "x1", **kw: Any
) -> NewInstance:
    """A NewInstance with defaults."""
    return NewInstance(
        instance_id=iid, name=name, execution_id=xid, input=input, created_at=T0, **kw
    )


def raised(name: str = "go", value: Any = None, when: datetime = T0) -> h.EventRaised:
    """An EventRaised event."""
    return h.EventRaised(timestamp=when, name=name, input=value)


def start(store: Store, iid: str = "i1", now: datetime = T0, **kw: Any) -> None:
    """Create instance ``iid``."""
    store.create_instance(new_instance(iid, **kw), now=now)


def lock(store: Store, owner: str = "w1", now: datetime = T0) -> OrchestrationWorkItem:
    """Lock an orchestration, failing the test if there is none."""
    item = lock_orchestration(store, owner, now=now, lease=LEASE)
    assert item is not None, "expected an instance to lock"
    return item


def step(
    store: Store,
    item: OrchestrationWorkItem,
    now: datetime = T0,
    status: RuntimeStatus = RUNNING,
    **kw: Any,
) -> None:
    """Commit a step that records the consumed messages and consumes them."""
    kw.setdefault("new_events", [m.event for m in item.messages])
    kw.setdefault("consumed", [m.message_id for m in item.messages])
    commit_orchestration(store, item, OrchestrationCommit(status=status, **kw), now=now)


def run_to_completion(store: Store, iid: str = "i1", output: Any = "done") -> None:
    """Start ``iid`` and complete it in one step."""
    start(store, iid)
    step(store, lock(store), status=RuntimeStatus.COMPLETED, output=output)


def types(events: list[h.HistoryEvent]) -> list[str]:
    """Event type names."""
    return [e.TYPE for e in events]


class StoreContract:
    """Instances, inboxes and orchestration steps: behaviour every Store backend must have.

    A backend's test class mixes in this and ``WorkContract`` (activities, purge, wake-up
    time, concurrency; ``tests/runtime/test_store_work_contract.py``) and provides a
    ``store`` fixture.
    """

    # -- create / get -------------------------------------------------------------------
    def test_create_instance_makes_a_pending_row_with_its_input(self, store: Store) -> None:
        start(store, input={"a": [1, 2]})
        rec = store.get_instance("i1")
        assert rec is not None
        assert (rec.name, rec.execution_id, rec.status) == ("orch", "x1", RuntimeStatus.PENDING)
        assert rec.input == {"a": [1, 2]}
        assert rec.created_at == T0 and rec.completed_at is None

    def test_create_instance_queues_execution_started(self, store: Store) -> None:
        start(store, input=5, parent_instance_id="p", parent_task_id=3)
        (msg,) = lock(store).messages
        assert isinstance(msg.event, h.ExecutionStarted)
        assert (msg.event.name, msg.event.input, msg.event.execution_id) == ("orch", 5, "x1")
        assert (msg.event.parent_instance_id, msg.event.parent_task_id) == ("p", 3)
        assert msg.execution_id == "x1"

    def test_create_instance_over_a_live_instance_raises(self, store: Store) -> None:
        start(store)
        with pytest.raises(InstanceAlreadyExistsError, match="PENDING"):
            start(store, xid="x2")
        assert store.get_instance("i1").execution_id == "x1"  # type: ignore[union-attr]

    def test_create_instance_over_a_terminal_instance_replaces_it(self, store: Store) -> None:
        start(store)
        item = lock(store)
        store.send(OutgoingMessage("i1", raised(), visible_at=at(100)), now=T0)
        act = ScheduleActivity(1, "work")
        step(store, item, status=RuntimeStatus.FAILED, activities=[act])
        store.create_instance(new_instance(xid="x2", input="again"), now=at(1))
        rec = store.get_instance("i1")
        assert rec is not None and (rec.execution_id, rec.status) == ("x2", RuntimeStatus.PENDING)
        assert store.get_history("i1") == []
        assert store.lock_activity("w", now=at(1), lease=LEASE) is None
        assert [m.event.TYPE for m in lock(store, now=at(500)).messages] == ["ExecutionStarted"]

    @pytest.mark.parametrize(
        "bad_id", ["", "x" * 257, "tab\there", "nul\x00"], ids=["empty", "long", "tab", "nul"]
    )
    def test_create_instance_rejects_bad_instance_ids(self, store: Store, bad_id: str) -> None:
        with pytest.raises(InvalidInstanceIdError):
            start(store, bad_id)
        assert store.list_instances(InstanceQuery()) == []

    def test_create_instance_rejects_non_json_input_and_writes_nothing(self, store: Store) -> None:
        with pytest.raises(PayloadError, match="input of orchestration 'orch'"):
            start(store, input={1, 2})
        assert store.get_instance("i1") is None

    def test_naive_times_are_rejected(self, store: Store) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            store.create_instance(new_instance(), now=datetime(2030, 1, 1))

    def test_times_come_back_in_utc(self, store: Store) -> None:
        plus2 = timezone(timedelta(hours=2))
        store.create_instance(new_instance(), now=datetime(2030, 1, 1, 2, tzinfo=plus2))
        rec = store.get_instance("i1")
        assert (
            rec is not None and rec.updated_at == T0 and rec.updated_at.utcoffset() == timedelta()
        )

    def test_unknown_instance_has_no_row_and_no_history(self, store: Store) -> None:
        assert store.get_instance("nope") is None
        assert store.get_history("nope") == []

    # -- list -----------------------------------------------------------------------------
    def _three(self, store: Store) -> None:
        for i, name in enumerate(["alpha", "beta", "al_pha"]):
            store.create_instance(
                NewInstance(f"i{i}", name, f"x{i}", None, created_at=at(i)), now=at(i)
            )
        step(store, lock(store, now=at(5)), status=RuntimeStatus.COMPLETED)

    def test_list_instances_returns_newest_first(self, store: Store) -> None:
        self._three(store)
        assert [r.instance_id for r in store.list_instances(InstanceQuery())] == ["i2", "i1", "i0"]

    def test_list_instances_filters_by_status(self, store: Store) -> None:
        self._three(store)
        done = store.list_instances(InstanceQuery(statuses=frozenset({RuntimeStatus.COMPLETED})))
        assert [r.instance_id for r in done] == ["i0"]

    def test_list_instances_filters_by_inclusive_creation_range(self, store: Store) -> None:
        self._three(store)
        got = store.list_instances(InstanceQuery(created_from=at(1), created_to=at(2)))
        assert [r.instance_id for r in got] == ["i2", "i1"]

    def test_list_instances_name_prefix_is_literal(self, store: Store) -> None:
        self._three(store)
        assert [r.name for r in store.list_instances(InstanceQuery(name_prefix="al_"))] == [
            "al_pha"
        ]

    def test_list_instances_honours_limit(self, store: Store) -> None:
        self._three(store)
        assert len(store.list_instances(InstanceQuery(limit=2))) == 2

    def test_list_instances_instance_id_prefix_is_literal(self, store: Store) -> None:
        for iid in ["job_1", "job-2", "jobx", "other"]:
            start(store, iid)
        got = store.list_instances(InstanceQuery(instance_id_prefix="job_"))
        assert [r.instance_id for r in got] == ["job_1"]

    def test_list_instances_after_pages_without_gaps_or_repeats(self, store: Store) -> None:
        # Two share a creation time: the instance id breaks the tie.
        for i, created in enumerate([0, 1, 1, 2, 3]):
            store.create_instance(
                NewInstance(f"p{i}", "orch", f"x{i}", None, created_at=at(created)), now=at(i)
            )
        seen: list[str] = []
        after = None
        while True:
            page = store.list_instances(InstanceQuery(limit=2, after=after))
            if not page:
                break
            seen += [r.instance_id for r in page]
            after = (page[-1].created_at, page[-1].instance_id)
        assert seen == ["p4", "p3", "p2", "p1", "p0"]

    def test_list_instances_after_combines_with_filters(self, store: Store) -> None:
        self._three(store)
        got = store.list_instances(InstanceQuery(name_prefix="al", after=(at(2), "i2")))
        assert [r.instance_id for r in got] == ["i0"]

    # -- send -----------------------------------------------------------------------------
    def test_send_to_an_unknown_instance_raises_not_found(self, store: Store) -> None:
        with pytest.raises(InstanceNotFoundError):
            store.send(OutgoingMessage("ghost", raised()), now=T0)

    def test_send_rejects_bad_instance_ids(self, store: Store) -> None:
        with pytest.raises(InvalidInstanceIdError):
            store.send(OutgoingMessage("", raised()), now=T0)

    def test_sent_message_reaches_the_instance_inbox(self, store: Store) -> None:
        start(store)
        store.send(OutgoingMessage("i1", raised("approve", {"ok": True})), now=T0)
        msgs = lock(store).messages
        assert [m.event for m in msgs][1] == raised("approve", {"ok": True})
        assert msgs[1].execution_id is None

    def test_message_with_future_visible_at_waits_until_then(self, store: Store) -> None:
        start(store)
        step(store, lock(store))
        store.send(OutgoingMessage("i1", raised(), visible_at=at(30)), now=T0)
        assert lock_orchestration(store, "w", now=at(29), lease=LEASE) is None
        assert len(lock(store, now=at(30)).messages) == 1

    # -- lock orchestration ---------------------------------------------------------------
    def test_lock_returns_none_without_work(self, store: Store) -> None:
        assert lock_orchestration(store, "w", now=T0, lease=LEASE) is None

    def test_lock_returns_row_history_and_messages_in_id_order(self, store: Store) -> None:
        start(store)
        step(store, lock(store))
        for n in range(3):
            store.send(OutgoingMessage("i1", raised(str(n))), now=T0)
        item = lock(store, "w2", now=at(1))
        assert item.instance.instance_id == "i1" and item.instance.status is RUNNING
        assert types(item.history) == ["ExecutionStarted"]
        assert [m.event.name for m in item.messages] == ["0", "1", "2"]  # type: ignore[attr-defined]
        ids = [m.message_id for m in item.messages]
        assert ids == sorted(ids)
        assert (item.lease_owner, item.lease_expires) == ("w2", at(1) + LEASE)

    def test_lock_returns_only_messages_visible_now(self, store: Store) -> None:
        start(store)
        store.send(OutgoingMessage("i1", raised(), visible_at=at(10)), now=T0)
        assert types([m.event for m in lock(store).messages]) == ["ExecutionStarted"]

    def test_a_live_lease_blocks_other_lockers(self, store: Store) -> None:
        start(store)
        lock(store, "w1")
        assert lock_orchestration(store, "w2", now=at(59), lease=LEASE) is None

    def test_an_expired_lease_can_be_taken_by_another_worker(self, store: Store) -> None:
        start(store)
        lock(store, "w1")
        assert lock(store, "w2", now=at(60)).lease_owner == "w2"

    def test_lock_picks_the_instance_with_the_oldest_visible_message(self, store: Store) -> None:
        start(store, "late", now=at(5))
        start(store, "early", now=at(1))
        assert lock(store, now=at(10)).instance.instance_id == "early"

    # -- commit ---------------------------------------------------------------------------
    def test_commit_appends_history_in_order(self, store: Store) -> None:
        start(store)
        step(store, lock(store), new_events=[h.OrchestratorStarted(timestamp=T0)])
        store.send(OutgoingMessage("i1", raised()), now=T0)
        step(store, lock(store))
        assert types(store.get_history("i1")) == ["OrchestratorStarted", "EventRaised"]

    def test_commit_updates_the_instance_row(self, store: Store) -> None:
        start(store)
        step(store, lock(store), now=at(3), output=[1], custom_status={"stage": 2})
        rec = store.get_instance("i1")
        assert rec is not None and rec.status is RUNNING
        assert (rec.output, rec.custom_status, rec.updated_at) == ([1], {"stage": 2}, at(3))
        assert rec.completed_at is None

    def test_terminal_commit_sets_completed_at_and_failure(self, store: Store) -> None:
        start(store)
        failure = FailureDetails("ValueError", "boom", "trace")
        step(store, lock(store), now=at(4), status=RuntimeStatus.FAILED, failure=failure)
        rec = store.get_instance("i1")
        assert rec is not None and (rec.status, rec.failure) == (RuntimeStatus.FAILED, failure)
        assert rec.completed_at == at(4)

    def test_commit_releases_the_lease(self, store: Store) -> None:
        start(store)
        step(store, lock(store, "w1"), consumed=[])
        assert lock(store, "w2").lease_owner == "w2"

    def test_commit_deletes_only_consumed_messages(self, store: Store) -> None:
        start(store)
        item = lock(store)
        store.send(OutgoingMessage("i1", raised("late")), now=T0)
        step(store, item)
        assert [m.event.TYPE for m in lock(store).messages] == ["EventRaised"]

    def test_commit_by_a_worker_whose_lease_was_taken_raises_and_writes_nothing(
        self, store: Store
    ) -> None:
        start(store)
        stale = lock(store, "w1")
        fresh = lock(store, "w2", now=at(61))
        with pytest.raises(LeaseLostError, match="w1"):
            step(store, stale, output="stale", status=RuntimeStatus.COMPLETED)
        assert store.get_history("i1") == []
        step(store, fresh, now=at(62))
        assert types(store.get_history("i1")) == ["ExecutionStarted"]

    def test_commit_after_the_history_grew_raises_lease_lost(self, store: Store) -> None:
        start(store)
        stale = lock(store, "w1")
        step(store, lock(store, "w2", now=at(61)), consumed=[])
        with pytest.raises(LeaseLostError):
            step(store, stale)
        assert len(store.get_history("i1")) == 1

    def test_commit_after_an_expired_but_untaken_lease_succeeds(self, store: Store) -> None:
        start(store)
        step(store, lock(store), now=at(600))
        assert types(store.get_history("i1")) == ["ExecutionStarted"]

    def test_commit_rejects_non_json_output_and_writes_nothing(self, store: Store) -> None:
        start(store)
        item = lock(store)
        with pytest.raises(PayloadError, match="output of orchestration 'orch'"):
            step(store, item, status=RuntimeStatus.COMPLETED, output=object())
        assert store.get_history("i1") == []
        step(store, item)
        assert len(store.get_history("i1")) == 1

    def test_commit_rejects_naive_event_times_and_writes_nothing(self, store: Store) -> None:
        start(store)
        item = lock(store)
        with pytest.raises(ValueError, match="timezone-aware"):
            step(store, item, new_events=[raised(when=datetime(2030, 1, 1))])
        assert store.get_history("i1") == []

    def test_commit_queues_activities_for_the_current_execution(self, store: Store) -> None:
        start(store)
        step(
            store, lock(store), activities=[ScheduleActivity(1, "a", [1]), ScheduleActivity(2, "b")]
        )
        first = store.lock_activity("w", now=T0, lease=LEASE)
        assert first is not None
        assert (first.instance_id, first.execution_id, first.task_id) == ("i1", "x1", 1)
        assert (first.name, first.input, first.attempt) == ("a", [1], 1)

    def test_timer_message_becomes_visible_at_its_time(self, store: Store) -> None:
        start(store)
        fired = h.TimerFired(timestamp=at(3600), task_id=1, fire_at=at(3600))
        timer = OutgoingMessage("i1", fired, visible_at=at(3600), execution_id="x1")
        step(store, lock(store), messages=[timer])
        assert lock_orchestration(store, "w", now=at(3599), lease=LEASE) is None
        (msg,) = lock(store, now=at(3600)).messages
        assert (msg.event, msg.visible_at, msg.execution_id) == (fired, at(3600), "x1")

    def test_commit_delivers_messages_to_other_instances(self, store: Store) -> None:
        start(store, "a")
        start(store, "b")
        item = lock(store)
        other = "b" if item.instance.instance_id == "a" else "a"
        step(store, item, messages=[OutgoingMessage(other, raised("ping"))])
        got = lock(store)
        assert got.instance.instance_id == other
        assert types([m.event for m in got.messages]) == ["ExecutionStarted", "EventRaised"]

    def test_commit_drops_messages_for_missing_instances(self, store: Store) -> None:
        start(store)
        step(store, lock(store), messages=[OutgoingMessage("ghost", raised())])
        assert store.get_instance("ghost") is None
        assert lock_orchestration(store, "w", now=T0, lease=LEASE) is None

    def test_commit_creates_sub_orchestrations(self, store: Store) -> None:
        start(store, "parent")
        child = new_instance("child", "sub", input=7, xid="cx", parent_instance_id="parent")
        step(store, lock(store), new_instances=[child])
        rec = store.get_instance("child")
        assert rec is not None and (rec.status, rec.input) == (RuntimeStatus.PENDING, 7)
        assert rec.parent_instance_id == "parent"
        assert types([m.event for m in lock(store).messages]) == ["ExecutionStarted"]

    def test_sub_orchestration_over_a_live_instance_fails_the_parent_task(
        self, store: Store
    ) -> None:
        start(store, "busy", xid="bx")
        start(store, "parent", now=at(1))
        step(store, lock(store))  # "busy" is now RUNNING
        child = new_instance(
            "busy", "sub", xid="new", parent_instance_id="parent", parent_task_id=4
        )
        step(store, lock(store, now=at(1)), new_instances=[child])
        assert store.get_instance("busy").execution_id == "bx"  # type: ignore[union-attr]
        (msg,) = lock(store, now=at(2)).messages
        assert isinstance(msg.event, h.SubOrchestrationInstanceFailed)
        assert msg.event.task_id == 4 and msg.execution_id == "x1"
        assert "busy" in msg.event.failure.message and "RUNNING" in msg.event.failure.message

    def test_sub_orchestration_over_a_terminal_instance_restarts_it(self, store: Store) -> None:
        run_to_completion(store, "old")
        start(store, "parent")
        child = new_instance("old", "sub", xid="again", parent_instance_id="parent")
        step(store, lock(store), new_instances=[child])
        rec = store.get_instance("old")
        assert rec is not None and (rec.execution_id, rec.status) == (
            "again",
            RuntimeStatus.PENDING,
        )
        assert store.get_history("old") == []

    def test_continue_as_new_resets_history_and_starts_a_new_execution(self, store: Store) -> None:
        start(store, input=1)
        restart = h.ExecutionStarted(
            timestamp=at(1), name="orch", instance_id="i1", execution_id="x2", input=2
        )
        step(
            store,
            lock(store),
            now=at(1),
            status=RuntimeStatus.CONTINUED_AS_NEW,
            continue_as_new="x2",
            continue_messages=[restart, raised("carried")],
        )
        rec = store.get_instance("i1")
        assert rec is not None
        assert (rec.execution_id, rec.status, rec.input) == (
            "x2",
            RuntimeStatus.CONTINUED_AS_NEW,
            2,
        )
        assert store.get_history("i1") == []
        item = lock(store, now=at(1))
        assert item.history == []
        assert [m.event for m in item.messages] == [restart, raised("carried")]
        assert {m.execution_id for m in item.messages} == {"x2"}

    def test_abandon_releases_the_lease_and_keeps_the_messages(self, store: Store) -> None:
        start(store)
        store.abandon_orchestration(lock(store, "w1"))
        item = lock(store, "w2")
        assert types([m.event for m in item.messages]) == ["ExecutionStarted"]

    def test_abandon_by_a_stale_owner_keeps_the_new_lease(self, store: Store) -> None:
        start(store)
        stale = lock(store, "w1")
        lock(store, "w2", now=at(61))
        store.abandon_orchestration(stale)
        assert lock_orchestration(store, "w3", now=at(62), lease=LEASE) is None
