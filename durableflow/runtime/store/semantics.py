"""Decisions every backend makes the same way, kept in one place so they cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from durableflow.core.errors import (
    InstanceAlreadyExistsError,
    InvalidStateError,
    LeaseLostError,
    StoreError,
)
from durableflow.core.history import (
    ExecutionStarted,
    FailureDetails,
    SubOrchestrationInstanceFailed,
)
from durableflow.core.ids import validate_instance_id
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec
from durableflow.runtime.store.base import (
    ActivityWorkItem,
    NewInstance,
    OrchestrationCommit,
    PlannedStep,
    WorkerRecord,
)


def started_event(new: NewInstance, now: datetime) -> ExecutionStarted:
    """The ExecutionStarted message queued for a newly created instance."""
    return ExecutionStarted(
        timestamp=now,
        name=new.name,
        instance_id=new.instance_id,
        execution_id=new.execution_id,
        input=new.input,
        parent_instance_id=new.parent_instance_id,
        parent_task_id=new.parent_task_id,
        parent_execution_id=new.parent_execution_id,
    )


def already_exists(instance_id: str, status: RuntimeStatus) -> InstanceAlreadyExistsError:
    """The error for starting over a live instance."""
    return InstanceAlreadyExistsError(instance_id, status.value)


def sub_orchestration_conflict(
    new: NewInstance, status: RuntimeStatus, now: datetime
) -> SubOrchestrationInstanceFailed:
    """The reply a parent gets when its sub-orchestration id is taken by a live instance."""
    error = already_exists(new.instance_id, status)
    return SubOrchestrationInstanceFailed(
        timestamp=now,
        task_id=new.parent_task_id if new.parent_task_id is not None else -1,
        failure=FailureDetails(
            error_type="InstanceAlreadyExistsError",
            message=(
                f"cannot start sub-orchestration {new.name!r}: {error}. Sub-orchestration "
                "ids must be unique among running instances; pass a different instance_id "
                "to call_sub_orchestrator or let one be generated"
            ),
        ),
    )


FORGET_DEAD_WORKERS_AFTER = timedelta(days=1)
"""How long a dead worker (heartbeat expired) stays listed before a heartbeat forgets it."""


def check_purge_filter(statuses: frozenset[RuntimeStatus], limit: int) -> None:
    """Refuse a bulk purge that could delete an instance that may still run, or no batch."""
    if not statuses:
        raise ValueError(
            "purge_instances needs at least one status (COMPLETED, FAILED, TERMINATED)"
        )
    running = sorted(s.value for s in statuses if not s.is_terminal)
    if running:
        raise ValueError(
            f"cannot purge instances by status {', '.join(running)}: only COMPLETED, FAILED "
            "and TERMINATED instances can be purged"
        )
    if limit < 1:
        raise ValueError(f"purge_instances needs a batch limit of at least 1, not {limit}")


def not_terminal(instance_id: str, status: RuntimeStatus) -> InvalidStateError:
    """The error for purging an instance that may still run."""
    return InvalidStateError(
        f"cannot purge instance {instance_id!r}: it is {status.value}, and only COMPLETED, "
        "FAILED or TERMINATED instances can be purged; terminate it first or wait for it "
        "to finish"
    )


def closed(url: str) -> StoreError:
    """The error for using a store after :meth:`close`."""
    return StoreError(f"store {url} is closed; open a new one with open_store({url!r})")


def orchestration_lease_lost(instance_id: str, owner: str) -> LeaseLostError:
    """The error for committing a step whose lease is gone."""
    return LeaseLostError(
        f"instance {instance_id!r}",
        owner,
        "its lease expired and another worker took it, or it was restarted or purged; this "
        "step was not written and will run again from the stored history",
    )


def activity_lease_lost(item: ActivityWorkItem) -> LeaseLostError:
    """The error for completing an activity whose lease is gone."""
    return LeaseLostError(
        f"activity {item.name!r} (task {item.task_id} of instance {item.instance_id!r})",
        item.lease_owner,
        "its lease expired and another worker took it over, so this result was dropped",
    )


@dataclass(slots=True)
class PreparedCommit:
    """An :class:`OrchestrationCommit` encoded to stored form before anything is written,
    so that a payload that is not JSON fails the commit without side effects.

    Events are JSON text, times integer microseconds (see :mod:`codec`).
    """

    events: list[str]
    output: str | None
    failure: str | None
    custom_status: str | None
    activities: list[tuple[int, str, str, int | None]]
    new_instances: list[tuple[NewInstance, str, str]]
    messages: list[tuple[str, str, int, str | None]]
    continue_events: list[str]
    continue_input: str | None
    has_continue_input: bool


def prepare_commit(
    instance_id: str, name: str, commit: OrchestrationCommit, now: datetime
) -> PreparedCommit:
    """Validate and encode ``commit`` for instance ``instance_id`` (orchestration ``name``)."""
    now_us = codec.to_micros(now)
    now = codec.from_micros(now_us)
    where = f"orchestration {name!r}"
    new_instances = []
    for new in commit.new_instances:
        validate_instance_id(new.instance_id)
        started = codec.encode_event(started_event(new, now), new.instance_id)
        child_input = codec.encode_value(new.input, f"input of orchestration {new.name!r}")
        new_instances.append((new, child_input, started))
    messages = [
        (
            m.instance_id,
            codec.encode_event(m.event, m.instance_id),
            now_us if m.visible_at is None else codec.to_micros(m.visible_at),
            m.execution_id,
        )
        for m in commit.messages
    ]
    started_inputs = [e.input for e in commit.continue_messages if isinstance(e, ExecutionStarted)]
    return PreparedCommit(
        events=[codec.encode_event(e, instance_id) for e in commit.new_events],
        output=codec.encode_optional(commit.output, f"output of {where}"),
        failure=codec.encode_failure(commit.failure),
        custom_status=codec.encode_optional(commit.custom_status, f"custom status of {where}"),
        activities=[
            (
                a.task_id,
                a.name,
                codec.encode_value(a.input, f"input of activity {a.name!r}"),
                codec.opt_duration_micros(a.timeout),
            )
            for a in commit.activities
        ],
        new_instances=new_instances,
        messages=messages,
        continue_events=[codec.encode_event(e, instance_id) for e in commit.continue_messages],
        continue_input=(
            codec.encode_value(started_inputs[0], f"input of {where}") if started_inputs else None
        ),
        has_continue_input=bool(started_inputs),
    )


def as_planned(row: Any, step: PlannedStep, now_us: int) -> bool:
    """Whether an SQL store's step-state row (``lease_expires, history_len, execution_id,
    history_epoch, next_visible_at, ...``, times in microseconds) is as ``step`` was decided
    on: free, the same execution and history, and nothing else in its inbox to apply
    first."""
    lease_expires, history_len, execution_id, epoch, next_visible, _ = row
    return (
        (lease_expires is None or lease_expires <= now_us)
        and history_len == step.history_len
        and execution_id == step.instance.execution_id
        and epoch == step.epoch
        and (next_visible is None or next_visible > now_us)
    )


def worker_record(row: Any) -> WorkerRecord:
    """A worker from an SQL store's ``LIST_WORKERS`` row (``owner, host, pid, started_at,
    heartbeat_at, expires_at, orchestrations, activities``, times in microseconds)."""
    owner, host, pid, started, beat, expires, orchestrations, activities = row
    return WorkerRecord(
        owner,
        host,
        pid,
        codec.from_micros(started),
        codec.from_micros(beat),
        codec.from_micros(expires),
        orchestrations,
        activities,
    )
