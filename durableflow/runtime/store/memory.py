"""An in-process store for tests and fuzzing: the SQLite semantics without the file.

All state sits behind one lock, so every method is one atomic step, like a transaction.
Payloads go through the same JSON codec as the durable backends (a value SQLite would
reject is rejected here too, and what reads back is what SQLite would give back).

``memory://NAME`` opened several times in one process shares one store, so a client and a
worker see the same data; the data lives while at least one handle to it is open (as with
SQLite's shared in-memory databases). ``memory://`` alone is a fresh private store.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from durableflow.core.errors import InstanceNotFoundError, LeaseLostError
from durableflow.core.history import HistoryEvent
from durableflow.core.ids import validate_instance_id
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec, semantics
from durableflow.runtime.store import memory_data as mdata
from durableflow.runtime.store.base import (
    ActivityWorkItem,
    InstanceQuery,
    InstanceRecord,
    Message,
    NewInstance,
    NoNotifications,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
    PlannedStep,
    StepDecider,
    Subscription,
    WorkerRecord,
)

_REGISTRY: dict[str, mdata.Data] = {}
_REGISTRY_LOCK = threading.Lock()


class MemoryStore:
    """The :class:`~durableflow.runtime.store.base.Store` protocol held in process memory.

    Args:
        name: share the data with every other open ``MemoryStore`` of this name in the
            process; ``None`` (the default) makes a private store.
    """

    def __init__(self, name: str | None = None) -> None:
        self.url = f"memory://{name or ''}"
        self._name = name
        self._closed = False
        if name is None:
            self._data = mdata.Data()
            return
        with _REGISTRY_LOCK:
            data = _REGISTRY.get(name)
            if data is None:
                data = _REGISTRY[name] = mdata.Data()
            data.handles += 1
        self._data = data

    def _d(self) -> mdata.Data:
        if self._closed:
            raise semantics.closed(self.url)
        return self._data

    # -- client side --------------------------------------------------------------------
    def create_instance(self, new: NewInstance, *, now: datetime) -> None:
        """Create an instance atomically and queue its ExecutionStarted message."""
        validate_instance_id(new.instance_id)
        input_json = codec.encode_value(new.input, f"input of orchestration {new.name!r}")
        codec.to_micros(new.created_at)
        now = codec.utc(now)
        started = codec.roundtrip_event(semantics.started_event(new, now), new.instance_id)
        d = self._d()
        with d.lock:
            existing = d.instances.get(new.instance_id)
            if existing is not None and not existing.status.is_terminal:
                raise semantics.already_exists(new.instance_id, existing.status)
            self._create(d, new, input_json, started, now)

    def _create(
        self, d: mdata.Data, new: NewInstance, input_json: str, started: HistoryEvent, now: datetime
    ) -> None:
        self._drop_activities(d, new.instance_id)
        inst = mdata.Instance(
            instance_id=new.instance_id,
            name=new.name,
            execution_id=new.execution_id,
            status=RuntimeStatus.PENDING,
            created_at=codec.utc(new.created_at),
            updated_at=now,
            input_json=input_json,
            parent_instance_id=new.parent_instance_id,
            parent_task_id=new.parent_task_id,
        )
        d.instances[new.instance_id] = inst
        mid = d.next_id()
        inst.inbox[mid] = Message(mid, new.instance_id, started, now, new.execution_id)

    @staticmethod
    def _drop_activities(d: mdata.Data, instance_id: str) -> None:
        for work_id in [w for w, a in d.activities.items() if a.instance_id == instance_id]:
            del d.activities[work_id]

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance row, or None."""
        d = self._d()
        with d.lock:
            inst = d.instances.get(instance_id)
            return None if inst is None else inst.record()

    def list_instances(self, query: InstanceQuery) -> list[InstanceRecord]:
        """Instances matching ``query``, newest first."""
        d = self._d()
        with d.lock:
            rows = [i for i in d.instances.values() if mdata.matches(i, query)]
            rows.sort(key=lambda i: (i.created_at, i.instance_id), reverse=True)
            return [i.record() for i in (rows[: query.limit] if query.limit >= 0 else rows)]

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        """The current execution's history, in order (empty if unknown).

        Fresh copies, as a durable store would read them: a client may do as it likes with
        them without touching what the workers replay.
        """
        d = self._d()
        with d.lock:
            inst = d.instances.get(instance_id)
            events = [] if inst is None else list(inst.history)
        return [codec.roundtrip_event(e, instance_id) for e in events]

    def send(self, message: OutgoingMessage, *, now: datetime) -> None:
        """Queue an event for an existing instance (``InstanceNotFoundError`` if none)."""
        validate_instance_id(message.instance_id)
        event = codec.roundtrip_event(message.event, message.instance_id)
        visible_at = codec.utc(message.visible_at or now)
        d = self._d()
        with d.lock:
            inst = d.instances.get(message.instance_id)
            if inst is None:
                raise InstanceNotFoundError(message.instance_id)
            mid = d.next_id()
            msg = Message(mid, inst.instance_id, event, visible_at, message.execution_id)
            inst.inbox[mid] = msg

    def purge(self, instance_id: str) -> bool:
        """Delete a terminal instance and everything it owns; False if it did not exist."""
        d = self._d()
        with d.lock:
            inst = d.instances.get(instance_id)
            if inst is None:
                return False
            if not inst.status.is_terminal:
                raise semantics.not_terminal(instance_id, inst.status)
            del d.instances[instance_id]
            self._drop_activities(d, instance_id)
            return True

    def purge_instances(
        self, *, completed_before: datetime, statuses: frozenset[RuntimeStatus], limit: int
    ) -> int:
        """Delete one batch of ended instances, oldest ending first; the number deleted."""
        semantics.check_purge_filter(statuses, limit)
        before = codec.utc(completed_before)
        d = self._d()
        with d.lock:
            ended = sorted(
                (inst.completed_at, iid)
                for iid, inst in d.instances.items()
                if inst.status in statuses
                and inst.completed_at is not None
                and inst.completed_at < before
            )[:limit]
            for _, iid in ended:
                del d.instances[iid]
                self._drop_activities(d, iid)
            return len(ended)

    def list_workers(self, *, now: datetime) -> list[WorkerRecord]:
        """Registered workers, oldest start first, with the leases each holds at ``now``."""
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            held: Counter[str] = Counter()
            acts: Counter[str] = Counter()
            for inst in d.instances.values():
                if inst.lease_owner and inst.lease_expires and inst.lease_expires > now:
                    held[inst.lease_owner] += 1
            for act in d.activities.values():
                if act.lease_owner and act.lease_expires and act.lease_expires > now:
                    acts[act.lease_owner] += 1
            return [
                replace(w, orchestrations=held[w.owner], activities=acts[w.owner])
                for w in sorted(d.workers.values(), key=lambda w: (w.started_at, w.owner))
            ]

    # -- worker side --------------------------------------------------------------------
    def _lock_one(
        self, owner: str, now: datetime, lease: timedelta
    ) -> OrchestrationWorkItem | None:
        """Lease the free instance whose earliest visible message is oldest (ties: by id)."""
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            best: tuple[datetime, str] | None = None
            for inst in d.instances.values():
                if inst.lease_expires is not None and inst.lease_expires > now:
                    continue
                first = min((m.visible_at for m in inst.inbox.values()), default=None)
                if first is not None and first <= now:
                    key = (first, inst.instance_id)
                    best = key if best is None or key < best else best
            if best is None:
                return None
            return mdata.lease_instance(d.instances[best[1]], owner, now, lease)

    def _commit_one(
        self, item: OrchestrationWorkItem, commit: OrchestrationCommit, now: datetime
    ) -> None:
        """Apply ``commit`` atomically and release the lease (``LeaseLostError`` if lost)."""
        iid = item.instance.instance_id
        p = semantics.prepare_commit(iid, item.instance.name, commit, now)
        self._apply_step(item, commit, p, now)

    def _apply_step(
        self,
        item: OrchestrationWorkItem,
        commit: OrchestrationCommit,
        p: semantics.PreparedCommit,
        now: datetime,
    ) -> None:
        iid = item.instance.instance_id
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            inst = d.instances.get(iid)
            if inst is None or not mdata.holds(inst, item):
                raise semantics.orchestration_lease_lost(iid, item.lease_owner)
            inst.history.extend(codec.decode_event(e) for e in p.events)
            lease_to = commit.lease_activities_to
            k = min(commit.lease_limit, len(p.activities)) if lease_to is not None else 0
            for n, (task_id, name, input_json, timeout_us) in enumerate(p.activities):
                wid = d.next_id()
                act = mdata.Activity(wid, iid, inst.execution_id, task_id, name, input_json, now)
                act.timeout = codec.opt_duration(timeout_us)
                d.activities[wid] = act
                if lease_to is not None and n < k:
                    expires = codec.utc(lease_to[1])
                    act.lease_owner, act.lease_expires, act.attempt = lease_to[0], expires, 1
                    commit.leased.append(mdata.activity_item(act, lease_to[0], expires))
            for new, input_json, started in p.new_instances:
                child = d.instances.get(new.instance_id)
                if new.instance_id == iid or (child is not None and not child.status.is_terminal):
                    # A parent cannot replace itself, even when its row still says it ended.
                    own = new.instance_id == iid or child is None
                    status = RuntimeStatus.RUNNING if own or child is None else child.status
                    reply = semantics.sub_orchestration_conflict(new, status, now)
                    self._enqueue(d, inst, codec.encode_event(reply, iid), now, inst.execution_id)
                else:
                    self._create(d, new, input_json, codec.decode_event(started), now)
            for target, event_json, visible_us, execution_id in p.messages:
                receiver = d.instances.get(target)
                if receiver is not None:
                    visible_at = codec.from_micros(visible_us)
                    self._enqueue(d, receiver, event_json, visible_at, execution_id)
            for mid in commit.consumed:
                inst.inbox.pop(mid, None)
            inst.status = commit.status
            inst.output_json = p.output
            inst.failure = codec.decode_failure(p.failure)
            inst.custom_json = p.custom_status
            inst.updated_at = now
            inst.completed_at = now if commit.status.is_terminal else None
            inst.lease_owner = inst.lease_expires = None
            if commit.continue_as_new is not None:
                inst.history = []
                inst.execution_id = commit.continue_as_new
                inst.status = RuntimeStatus.CONTINUED_AS_NEW
                if p.continue_input is not None:
                    inst.input_json = p.continue_input
                for event_json in p.continue_events:
                    self._enqueue(d, inst, event_json, now, commit.continue_as_new)

    def lock_orchestrations(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        results: Sequence[tuple[ActivityWorkItem, HistoryEvent]] = (),
    ) -> list[OrchestrationWorkItem]:
        """Record ``results``, then lease up to ``limit`` ready instances, oldest mail first."""
        for activity, result in results:
            # A lost lease: another worker runs the activity now, and its result counts.
            with contextlib.suppress(LeaseLostError):
                self.complete_activity(activity, result, now=now)
        items: list[OrchestrationWorkItem] = []
        while len(items) < limit:
            item = self._lock_one(owner, now, lease)
            if item is None:
                break
            items.append(item)
        return items

    def commit_orchestrations(
        self,
        batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]],
        *,
        now: datetime,
    ) -> list[bool]:
        """Apply several steps; each only if its lease still holds (the result says which).

        Every step is validated and encoded first, so a step that cannot be stored fails the
        call before any of the batch is applied, as a rolled-back transaction would.
        """
        prepared = [
            semantics.prepare_commit(item.instance.instance_id, item.instance.name, commit, now)
            for item, commit in batch
        ]
        applied = []
        for (item, commit), p in zip(batch, prepared, strict=True):
            try:
                self._apply_step(item, commit, p, now)
            except LeaseLostError:
                applied.append(False)
            else:
                applied.append(True)
        return applied

    @staticmethod
    def _enqueue(
        d: mdata.Data,
        inst: mdata.Instance,
        event_json: str,
        visible_at: datetime,
        execution_id: str | None,
    ) -> None:
        mid = d.next_id()
        event = codec.decode_event(event_json)
        inst.inbox[mid] = Message(mid, inst.instance_id, event, visible_at, execution_id)

    def abandon_orchestration(self, item: OrchestrationWorkItem) -> None:
        """Release the lease without writing anything (the messages stay queued)."""
        d = self._d()
        with d.lock:
            inst = d.instances.get(item.instance.instance_id)
            if inst is not None and mdata.holds(inst, item, check_history=False):
                inst.lease_owner = inst.lease_expires = None

    def lock_activity(
        self, owner: str, *, now: datetime, lease: timedelta
    ) -> ActivityWorkItem | None:
        """Lease the oldest queued activity whose lease is free or expired."""
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            for act in d.activities.values():
                if act.visible_at <= now and (
                    act.lease_expires is None or act.lease_expires <= now
                ):
                    expires = now + lease
                    act.lease_owner, act.lease_expires = owner, expires
                    act.attempt += 1
                    return mdata.activity_item(act, owner, expires)
            return None

    def complete_activity(
        self, item: ActivityWorkItem, result: HistoryEvent, *, now: datetime
    ) -> None:
        """Delete the activity and queue ``result`` for its instance, atomically."""
        event = codec.roundtrip_event(result, item.instance_id)
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            act = mdata.check_activity_lease(d, item)
            del d.activities[act.work_id]
            inst = d.instances.get(item.instance_id)
            if inst is not None:
                mid = d.next_id()
                inst.inbox[mid] = Message(mid, item.instance_id, event, now, item.execution_id)

    def complete_activity_and_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        *,
        now: datetime,
        lease: timedelta,
        decide: StepDecider,
    ) -> tuple[OrchestrationWorkItem, OrchestrationCommit] | None:
        """Record the result and, if the instance is free, run and apply its next step,
        atomically (see the protocol)."""
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            self.complete_activity(item, result, now=now)
            inst = d.instances.get(item.instance_id)
            if inst is None or (inst.lease_expires is not None and inst.lease_expires > now):
                return None
            if not any(m.visible_at <= now for m in inst.inbox.values()):
                return None
            work = mdata.lease_instance(inst, mdata.lease_holder(item), now, lease)
            try:
                commit = decide(work)
            except BaseException:
                inst.lease_owner = inst.lease_expires = None
                raise
            if commit is None:
                inst.lease_owner = inst.lease_expires = None
                return None
            self._commit_one(work, commit, now)
            return work, commit

    def complete_activity_with_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        step: PlannedStep,
        *,
        now: datetime,
    ) -> bool:
        """Record the result and apply ``step`` atomically if the instance is as the step
        assumed; otherwise record only the result (see the protocol)."""
        now = codec.utc(now)
        d = self._d()
        with d.lock:
            act = mdata.check_activity_lease(d, item)
            inst = d.instances.get(item.instance_id)
            if inst is None or not mdata.as_planned(inst, step, now):
                self.complete_activity(item, result, now=now)
                return False
            # Validate and encode first, so a bad payload changes nothing.
            semantics.prepare_commit(inst.instance_id, inst.name, step.commit, now)
            del d.activities[act.work_id]
            # Held only inside this lock, so its length does not matter.
            work = mdata.lease_instance(inst, mdata.lease_holder(item), now, timedelta(minutes=1))
            self._commit_one(work, step.commit, now)
            return True

    def abandon_activity(self, item: ActivityWorkItem) -> None:
        """Release the activity's lease so another worker can run it."""
        d = self._d()
        with d.lock:
            act = mdata.held_activity(d, item)
            if act is not None:
                act.lease_owner = act.lease_expires = None

    def renew_activity_lease(self, item: ActivityWorkItem, *, until: datetime) -> bool:
        """Extend a running activity's lease; False if the lease was lost."""
        until = codec.utc(until)
        d = self._d()
        with d.lock:
            act = mdata.held_activity(d, item)
            if act is None:
                return False
            act.lease_expires = until
            return True

    def release_leases(self, owner: str) -> int:
        """Release every instance and activity lease ``owner`` holds; how many."""
        d = self._d()
        released = 0
        with d.lock:
            rows: list[mdata.Instance | mdata.Activity] = [*d.instances.values()]
            rows += d.activities.values()
            for row in rows:
                if row.lease_owner == owner and row.lease_expires is not None:
                    row.lease_owner, row.lease_expires = None, None
                    released += 1
        return released

    def heartbeat_worker(
        self, owner: str, *, host: str, pid: int, now: datetime, expires: datetime
    ) -> None:
        """Record that worker ``owner`` is alive until ``expires`` (registering it)."""
        now, expires = codec.utc(now), codec.utc(expires)
        d = self._d()
        with d.lock:
            old = d.workers.get(owner)
            started = old.started_at if old is not None else now
            d.workers[owner] = WorkerRecord(owner, host, pid, started, now, expires)
            forget = now - semantics.FORGET_DEAD_WORKERS_AFTER
            for name in [n for n, w in d.workers.items() if w.expires_at < forget]:
                del d.workers[name]

    def unregister_worker(self, owner: str) -> None:
        """Forget worker ``owner``."""
        d = self._d()
        with d.lock:
            d.workers.pop(owner, None)

    def subscribe(
        self, on_work: Callable[[], None], on_activities: Callable[[], None] | None = None
    ) -> Subscription:
        """Nothing to notify: every write to this store goes through this object, so no
        work becomes visible that its own writes did not make (a ``Runtime`` wakes its
        worker on its client's writes itself)."""
        return NoNotifications()

    def next_wake_time(self) -> datetime | None:
        """When a lock call can next return work: the earliest visible time of a queued
        message or activity, or its lease expiry while it is leased."""
        d = self._d()
        with d.lock:
            times: list[datetime] = []
            for inst in d.instances.values():
                if inst.inbox:
                    first = min(m.visible_at for m in inst.inbox.values())
                    times.append(mdata.later(first, inst.lease_expires))
            times.extend(mdata.later(a.visible_at, a.lease_expires) for a in d.activities.values())
            return min(times, default=None)

    def close(self) -> None:
        """Drop this handle; shared data is freed with its last open handle. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._name is None:
            return
        with _REGISTRY_LOCK:
            self._data.handles -= 1
            if self._data.handles == 0 and _REGISTRY.get(self._name) is self._data:
                del _REGISTRY[self._name]
