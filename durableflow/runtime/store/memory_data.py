"""The memory store's data: instances, activities, and the checks on them.

Plain structures behind the store's one lock (:mod:`memory`); the functions here expect the
caller to hold it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from durableflow.core.history import FailureDetails, HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec, semantics
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    InstanceQuery,
    InstanceRecord,
    Message,
    OrchestrationWorkItem,
    PlannedStep,
    WorkerRecord,
)


@dataclass(slots=True)
class Instance:
    """One instance: its row, history, inbox and lease; payloads kept as JSON text."""

    instance_id: str
    name: str
    execution_id: str
    status: RuntimeStatus
    created_at: datetime
    updated_at: datetime
    input_json: str
    parent_instance_id: str | None
    parent_task_id: int | None
    output_json: str | None = None
    failure: FailureDetails | None = None
    custom_json: str | None = None
    completed_at: datetime | None = None
    history: list[HistoryEvent] = field(default_factory=list)
    inbox: dict[int, Message] = field(default_factory=dict)
    lease_owner: str | None = None
    lease_expires: datetime | None = None

    def record(self) -> InstanceRecord:
        """The row as the store protocol gives it out (payloads decoded afresh)."""
        return InstanceRecord(
            instance_id=self.instance_id,
            name=self.name,
            execution_id=self.execution_id,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            input=codec.decode_value(self.input_json),
            output=codec.decode_value(self.output_json),
            failure=self.failure,
            custom_status=codec.decode_value(self.custom_json),
            parent_instance_id=self.parent_instance_id,
            parent_task_id=self.parent_task_id,
            completed_at=self.completed_at,
        )


@dataclass(slots=True)
class Activity:
    """One queued or leased activity invocation."""

    work_id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input_json: str
    visible_at: datetime
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires: datetime | None = None
    timeout: timedelta | None = None


@dataclass(slots=True)
class Data:
    """Everything one store holds, behind one re-entrant lock."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    instances: dict[str, Instance] = field(default_factory=dict)
    activities: dict[int, Activity] = field(default_factory=dict)
    workers: dict[str, WorkerRecord] = field(default_factory=dict)
    last_id: int = 0
    handles: int = 0

    def next_id(self) -> int:
        """A new message or work id (never reused, like SQLite's AUTOINCREMENT)."""
        self.last_id += 1
        return self.last_id


def lease_instance(
    inst: Instance, owner: str, now: datetime, lease: timedelta
) -> OrchestrationWorkItem:
    """Lease ``inst`` to ``owner`` and return its work item (the caller holds the data lock)."""
    inst.lease_owner = owner
    inst.lease_expires = now + lease
    messages = sorted(
        (m for m in inst.inbox.values() if m.visible_at <= now), key=lambda m: m.message_id
    )
    return OrchestrationWorkItem(
        inst.record(), list(inst.history), messages, owner, inst.lease_expires
    )


def holds(inst: Instance | None, item: OrchestrationWorkItem, check_history: bool = True) -> bool:
    """Whether ``item``'s lease still holds on ``inst`` (and its history has not grown)."""
    if inst is None:
        return False
    if (inst.lease_owner, inst.lease_expires) != (item.lease_owner, item.lease_expires):
        return False
    return not check_history or len(inst.history) == len(item.history)


def matches(inst: Instance, q: InstanceQuery) -> bool:
    """Whether ``inst`` passes every filter of ``q``."""
    if q.statuses is not None and inst.status not in q.statuses:
        return False
    if q.created_from is not None and inst.created_at < q.created_from:
        return False
    if q.created_to is not None and inst.created_at > q.created_to:
        return False
    if q.instance_id_prefix is not None and not inst.instance_id.startswith(q.instance_id_prefix):
        return False
    if q.after is not None and (inst.created_at, inst.instance_id) >= q.after:
        return False
    return q.name_prefix is None or inst.name.startswith(q.name_prefix)


def later(visible_at: datetime, lease_expires: datetime | None) -> datetime:
    """When work visible at ``visible_at`` and leased until ``lease_expires`` is free."""
    return visible_at if lease_expires is None else max(visible_at, lease_expires)


def as_planned(inst: Instance, step: PlannedStep, now: datetime) -> bool:
    """Whether ``inst`` is as ``step`` was decided on (see ``Store``)."""
    return (
        (inst.lease_expires is None or inst.lease_expires <= now)
        and len(inst.history) == step.history_len
        and inst.execution_id == step.instance.execution_id
        and not any(m.visible_at <= now for m in inst.inbox.values())
    )


def activity_item(act: Activity, owner: str, expires: datetime) -> ActivityWorkItem:
    """The work item of ``act``, just leased to ``owner`` until ``expires``; its lease is
    (work id, owner, attempt)."""
    return ActivityWorkItem(
        instance_id=act.instance_id,
        execution_id=act.execution_id,
        task_id=act.task_id,
        name=act.name,
        input=codec.decode_value(act.input_json),
        attempt=act.attempt,
        lease_owner=owner,
        lease_expires=expires,
        lease=ActivityLease((act.work_id, owner, act.attempt)),
        timeout=act.timeout,
    )


def lease_holder(item: ActivityWorkItem) -> str:
    """The worker ``item``'s lease was granted to, as the lease itself says."""
    owner: str = item.lease.key[1]
    return owner


def held_activity(d: Data, item: ActivityWorkItem) -> Activity | None:
    """The activity ``item`` still holds the lease of, or None."""
    work_id, owner, attempt = item.lease.key
    act = d.activities.get(work_id)
    if act is None or (act.lease_owner, act.attempt) != (owner, attempt):
        return None
    return act


def check_activity_lease(d: Data, item: ActivityWorkItem) -> Activity:
    """The activity ``item`` holds the lease of.

    Raises:
        LeaseLostError: ``item`` no longer holds it.
    """
    act = held_activity(d, item)
    if act is None:
        raise semantics.activity_lease_lost(item)
    return act
