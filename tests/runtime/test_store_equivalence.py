"""Random operation sequences give the same observable results on every backend.

A hypothesis state machine drives a MemoryStore and a SqliteStore (and a PostgresStore, when
a test server is there) side by side through the Store API (starts, sends, locks, commits
of every kind, activities, purges, time moving on) and compares every answer, error and
resulting state. Message and work ids differ between
backends, so items are compared without them; everything else must match exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import DurableflowError
from durableflow.core.history import FailureDetails
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    ActivityWorkItem,
    InstanceQuery,
    LeaseLostError,
    MemoryStore,
    NewInstance,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
    SqliteStore,
    Store,
    open_store,
)
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration
from tests.runtime.pg import empty_schema
from tests.runtime.store_contract import T0

IDS = ["a", "b", "c"]
OWNERS = ["w1", "w2"]
LEASE = timedelta(seconds=60)
KINDS = ["run", "complete", "fail", "continue", "noop"]


def _outcome(fn: Callable[[Store], Any], store: Store) -> tuple[str, Any]:
    try:
        return ("ok", fn(store))
    except (DurableflowError, LeaseLostError, ValueError) as exc:
        return ("error", type(exc).__name__)


def _orch_view(item: OrchestrationWorkItem | None) -> Any:
    if item is None:
        return None
    messages = [(m.event, m.visible_at, m.execution_id) for m in item.messages]
    return (item.instance, item.history, messages, item.lease_owner, item.lease_expires)


def _act_view(item: ActivityWorkItem | None) -> Any:
    if item is None:
        return None
    return (item.instance_id, item.execution_id, item.task_id, item.name, item.input, item.attempt)


@dataclass
class _Plan:
    kind: str
    consume: int
    activities: int
    timer: int
    to_other: str | None
    child: str | None


class SameBehaviour(RuleBasedStateMachine):
    """MemoryStore and SqliteStore (and PostgresStore, given ``pg_url``), fed the same
    operations, must agree on everything."""

    def __init__(self, directory: Path, pg_url: str | None = None) -> None:
        super().__init__()
        self.dir = directory
        # Durability is not under test here; OFF keeps hundreds of examples fast.
        self.stores: list[Store] = [
            MemoryStore(),
            SqliteStore(str(self.dir / "eq.db"), synchronous="OFF"),
        ]
        if pg_url is not None:
            empty_schema(pg_url)
            self.stores.append(open_store(pg_url))
        self.seconds = 0
        self.counter = 0
        self.orchs: list[list[OrchestrationWorkItem]] = []
        self.acts: list[list[ActivityWorkItem]] = []

    def teardown(self) -> None:
        for store in self.stores:
            store.close()

    @property
    def now(self) -> Any:
        return T0 + timedelta(seconds=self.seconds)

    def both(self, fn: Callable[[Store], Any], view: Callable[[Any], Any] = lambda x: x) -> Any:
        results = [_outcome(fn, s) for s in self.stores]
        views = [(kind, view(value) if kind == "ok" else value) for kind, value in results]
        for store, other in zip(self.stores[1:], views[1:], strict=True):
            assert views[0] == other, (
                f"backends disagree: memory gave {views[0]!r}, {store.url} gave {other!r}"
            )
        return [value for _, value in results]

    def fresh(self) -> str:
        self.counter += 1
        return f"x{self.counter}"

    # -- client operations ---------------------------------------------------------------
    @rule(seconds=st.integers(0, 90))
    def tick(self, seconds: int) -> None:
        self.seconds += seconds

    @rule(iid=st.sampled_from(IDS), value=st.integers(0, 3))
    def start(self, iid: str, value: int) -> None:
        new = NewInstance(iid, "orch", self.fresh(), value, created_at=self.now)
        self.both(lambda s: s.create_instance(new, now=self.now))

    @rule(iid=st.sampled_from([*IDS, "ghost"]), delay=st.sampled_from([0, 0, 30]))
    def send(self, iid: str, delay: int) -> None:
        event = h.EventRaised(timestamp=self.now, name="e", input=delay)
        msg = OutgoingMessage(iid, event, visible_at=self.now + timedelta(seconds=delay))
        self.both(lambda s: s.send(msg, now=self.now))

    @rule(iid=st.sampled_from(IDS))
    def purge(self, iid: str) -> None:
        self.both(lambda s: s.purge(iid))

    @rule(
        age=st.integers(0, 120),
        statuses=st.sets(st.sampled_from(sorted(RuntimeStatus, key=lambda s: s.value)), max_size=3),
        limit=st.integers(0, 3),
    )
    def purge_instances(self, age: int, statuses: set[RuntimeStatus], limit: int) -> None:
        before = self.now - timedelta(seconds=age)
        wanted = frozenset(statuses)
        self.both(
            lambda s: s.purge_instances(completed_before=before, statuses=wanted, limit=limit)
        )

    # -- orchestrations ------------------------------------------------------------------
    @rule(owner=st.sampled_from(OWNERS))
    def lock_orchestration(self, owner: str) -> None:
        items = self.both(
            lambda s: lock_orchestration(s, owner, now=self.now, lease=LEASE), _orch_view
        )
        if items[0] is not None:
            self.orchs.append(items)

    @precondition(lambda self: bool(self.orchs))
    @rule(
        pick=st.integers(0, 10),
        kind=st.sampled_from(KINDS),
        consume=st.integers(0, 3),
        activities=st.integers(0, 2),
        timer=st.sampled_from([0, 0, 45]),
        to_other=st.sampled_from([None, *IDS, "ghost"]),
        child=st.sampled_from([None, *IDS]),
    )
    def commit(self, pick: int, **plan: Any) -> None:
        items = self.orchs.pop(pick % len(self.orchs))
        p = _Plan(**plan)
        new_xid = self.fresh()
        self.both(
            lambda s: commit_orchestration(
                s,
                items[self.stores.index(s)],
                self._commit(items[self.stores.index(s)], p, new_xid),
                now=self.now,
            )
        )

    def _commit(self, item: OrchestrationWorkItem, p: _Plan, new_xid: str) -> OrchestrationCommit:
        iid, xid = item.instance.instance_id, item.instance.execution_id
        taken = item.messages[: p.consume] if p.kind != "noop" else []
        commit = OrchestrationCommit(
            new_events=[h.OrchestratorStarted(timestamp=self.now), *(m.event for m in taken)],
            status=RuntimeStatus.RUNNING,
            consumed=[m.message_id for m in taken],
            custom_status={"n": len(item.history)},
        )
        if p.kind == "run":
            commit.activities = [ScheduleActivity(n, f"act{n}", n) for n in range(p.activities)]
            if p.timer:
                fire = self.now + timedelta(seconds=p.timer)
                timer = h.TimerFired(timestamp=fire, task_id=9, fire_at=fire)
                commit.messages.append(
                    OutgoingMessage(iid, timer, visible_at=fire, execution_id=xid)
                )
            if p.to_other:
                ev = h.EventRaised(timestamp=self.now, name="ping", input=iid)
                commit.messages.append(OutgoingMessage(p.to_other, ev))
            if p.child:
                commit.new_instances.append(
                    NewInstance(p.child, "sub", new_xid, None, self.now, iid, 7)
                )
        elif p.kind == "complete":
            commit.status, commit.output = RuntimeStatus.COMPLETED, [iid, len(item.history)]
        elif p.kind == "fail":
            commit.status = RuntimeStatus.FAILED
            commit.failure = FailureDetails("ValueError", "boom")
        elif p.kind == "continue":
            commit.status = RuntimeStatus.CONTINUED_AS_NEW
            commit.continue_as_new = new_xid
            commit.continue_messages = [
                h.ExecutionStarted(
                    timestamp=self.now, name="orch", instance_id=iid, execution_id=new_xid, input=1
                )
            ]
        return commit

    @precondition(lambda self: bool(self.orchs))
    @rule(pick=st.integers(0, 10))
    def abandon_orchestration(self, pick: int) -> None:
        items = self.orchs.pop(pick % len(self.orchs))
        self.both(lambda s: s.abandon_orchestration(items[self.stores.index(s)]))

    # -- activities ----------------------------------------------------------------------
    @rule(owner=st.sampled_from(OWNERS))
    def lock_activity(self, owner: str) -> None:
        items = self.both(lambda s: s.lock_activity(owner, now=self.now, lease=LEASE), _act_view)
        if items[0] is not None:
            self.acts.append(items)

    @precondition(lambda self: bool(self.acts))
    @rule(pick=st.integers(0, 10), ok=st.booleans())
    def complete_activity(self, pick: int, ok: bool) -> None:
        items = self.acts.pop(pick % len(self.acts))
        task = items[0].task_id
        result: h.HistoryEvent = (
            h.TaskCompleted(timestamp=self.now, task_id=task, result=task)
            if ok
            else h.TaskFailed(timestamp=self.now, task_id=task, failure=FailureDetails("E", "x"))
        )
        self.both(lambda s: s.complete_activity(items[self.stores.index(s)], result, now=self.now))

    @precondition(lambda self: bool(self.acts))
    @rule(pick=st.integers(0, 10), extra=st.integers(1, 120))
    def renew_activity(self, pick: int, extra: int) -> None:
        items = self.acts[pick % len(self.acts)]
        until = self.now + timedelta(seconds=extra)
        self.both(lambda s: s.renew_activity_lease(items[self.stores.index(s)], until=until))

    @precondition(lambda self: bool(self.acts))
    @rule(pick=st.integers(0, 10))
    def abandon_activity(self, pick: int) -> None:
        items = self.acts.pop(pick % len(self.acts))
        self.both(lambda s: s.abandon_activity(items[self.stores.index(s)]))

    # -- what both must agree on after every step ----------------------------------------
    @invariant()
    def same_state(self) -> None:
        self.both(lambda s: [s.get_instance(iid) for iid in IDS])
        self.both(lambda s: [s.get_history(iid) for iid in IDS])
        self.both(lambda s: s.list_instances(InstanceQuery()))
        self.both(lambda s: s.next_wake_time())


def test_memory_and_sqlite_agree_on_random_operation_sequences(tmp_path: Path) -> None:
    runs = itertools.count()

    def machine() -> SameBehaviour:
        directory = tmp_path / f"run{next(runs)}"
        directory.mkdir()
        return SameBehaviour(directory)

    # hypothesis accepts any factory here; its stub asks for the class
    run_state_machine_as_test(
        machine,  # type: ignore[arg-type]
        settings=settings(max_examples=60, stateful_step_count=40, deadline=None),
    )


@pytest.mark.postgres
def test_memory_sqlite_and_postgres_agree_on_random_operation_sequences(
    tmp_path: Path, pg_url: str
) -> None:
    runs = itertools.count()

    def machine() -> SameBehaviour:
        directory = tmp_path / f"run{next(runs)}"
        directory.mkdir()
        return SameBehaviour(directory, pg_url)

    run_state_machine_as_test(
        machine,  # type: ignore[arg-type]
        settings=settings(max_examples=40, stateful_step_count=40, deadline=None),
    )
