"""Turning one replay step into one store commit.

Kept apart from the worker's threads so it can be tested and reasoned about on its own: given
a locked work item and the replayer's decision, build the :class:`OrchestrationCommit`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from durableflow.core import history as h
from durableflow.core.actions import CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.executor import StepResult
from durableflow.runtime.store.base import (
    InstanceRecord,
    Message,
    NewInstance,
    OrchestrationCommit,
    OutgoingMessage,
)


def split_messages(
    instance: InstanceRecord, messages: list[Message]
) -> tuple[list[h.HistoryEvent], list[int]]:
    """The events this step should apply, and the ids of every message it consumes.

    Replies addressed to an older execution (before a continue-as-new) are consumed and
    dropped; so is everything sent to an instance that has already ended.
    """
    consumed = [m.message_id for m in messages]
    if instance.status.is_terminal:
        return [], consumed
    events = [
        m.event
        for m in messages
        if m.execution_id is None or m.execution_id == instance.execution_id
    ]
    return events, consumed


def build_commit(
    instance: InstanceRecord,
    result: StepResult,
    consumed: list[int],
    now: datetime,
    started: h.ExecutionStarted | None = None,
) -> OrchestrationCommit:
    """The store commit that records ``result`` for ``instance``.

    ``started`` is the current execution's ExecutionStarted: a sub-orchestration's reply is
    addressed to the parent execution it names, so a parent that continued as new in the
    meantime does not take it for an answer to its new execution's task of the same number.
    """
    parent_xid = started.parent_execution_id if started is not None else None
    commit = OrchestrationCommit(
        new_events=result.new_events,
        status=result.status,
        output=result.output,
        failure=result.failure,
        custom_status=result.custom_status,
        consumed=consumed,
    )
    for action in result.actions:
        if isinstance(action, ScheduleActivity):
            commit.activities.append(action)
        elif isinstance(action, CreateTimer):
            commit.messages.append(
                OutgoingMessage(
                    instance.instance_id,
                    h.TimerFired(
                        timestamp=action.fire_at, task_id=action.task_id, fire_at=action.fire_at
                    ),
                    visible_at=action.fire_at,
                    execution_id=instance.execution_id,
                )
            )
        elif isinstance(action, StartSubOrchestration):
            commit.new_instances.append(
                NewInstance(
                    instance_id=action.instance_id,
                    name=action.name,
                    execution_id=uuid.uuid4().hex,
                    input=action.input,
                    created_at=now,
                    parent_instance_id=instance.instance_id,
                    parent_task_id=action.task_id,
                    parent_execution_id=instance.execution_id,
                )
            )
    if result.status is RuntimeStatus.CONTINUED_AS_NEW:
        execution_id = uuid.uuid4().hex
        commit.continue_as_new = execution_id
        commit.continue_messages = [
            h.ExecutionStarted(
                timestamp=now,
                name=instance.name,
                instance_id=instance.instance_id,
                execution_id=execution_id,
                input=result.continue_input,
                parent_instance_id=instance.parent_instance_id,
                parent_task_id=instance.parent_task_id,
                parent_execution_id=parent_xid,
            ),
            *result.carryover_events,
        ]
    elif result.is_terminal and instance.parent_instance_id is not None:
        commit.messages.append(_reply_to_parent(instance, result, now, parent_xid))
    return commit


def _reply_to_parent(
    instance: InstanceRecord, result: StepResult, now: datetime, parent_xid: str | None
) -> OutgoingMessage:
    assert instance.parent_instance_id is not None and instance.parent_task_id is not None
    event: h.HistoryEvent
    if result.status is RuntimeStatus.COMPLETED:
        event = h.SubOrchestrationInstanceCompleted(
            timestamp=now, task_id=instance.parent_task_id, result=result.output
        )
    else:
        failure = result.failure or h.FailureDetails(
            "TerminatedError", f"sub-orchestration {instance.instance_id!r} was terminated"
        )
        event = h.SubOrchestrationInstanceFailed(
            timestamp=now, task_id=instance.parent_task_id, failure=failure
        )
    return OutgoingMessage(instance.parent_instance_id, event, execution_id=parent_xid)
