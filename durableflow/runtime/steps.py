"""Turning one replay step into one store commit.

Kept apart from the worker's threads so it can be tested and reasoned about on its own: given
a locked work item and the replayer's decision, build the :class:`OrchestrationCommit`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from durableflow.core import history as h
from durableflow.core.actions import CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.errors import InvalidStateError, StoreError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.executor import StepResult, failure_of
from durableflow.runtime.store.base import (
    InstanceRecord,
    Message,
    NewInstance,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
)

_ACTION_EVENTS = (h.TaskScheduled, h.TimerCreated, h.SubOrchestrationInstanceCreated)
_END_EVENTS = (h.ExecutionCompleted, h.ExecutionFailed, h.ContinuedAsNew, h.ExecutionTerminated)
_LIVE = (RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED)


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


def execution_started(item: OrchestrationWorkItem) -> h.ExecutionStarted | None:
    """The current execution's ExecutionStarted: it opens the history (after at most one
    OrchestratorStarted), or arrives with this first step."""
    for e in item.history[:2]:
        if isinstance(e, h.ExecutionStarted):
            return e
    for m in item.messages:
        if isinstance(m.event, h.ExecutionStarted):
            return m.event
    return None


def failed_step(
    item: OrchestrationWorkItem, commit: OrchestrationCommit, err: Exception, now: datetime
) -> OrchestrationCommit:
    """Instead of ``commit``, which the store refused with ``err``: record the step's inputs
    and fail the instance with the error (its parent, if any, is told)."""
    inst = item.instance
    error = InvalidStateError(
        f"the step of orchestration {inst.name!r} (instance {inst.instance_id!r}) could not "
        f"be stored: {err}. The instance fails so that other instances keep running; fix "
        "the code that produced the value"
    )
    failure = h.FailureDetails(
        failure_of(error).error_type, str(error), failure_of(err).stack_trace
    )
    events = list(commit.new_events)
    if events and isinstance(events[-1], _END_EVENTS) and commit.status not in _LIVE:
        events.pop()  # the completion event the step would have written
    inputs = [e for e in events if not isinstance(e, _ACTION_EVENTS)]
    inputs.append(h.ExecutionFailed(timestamp=now, failure=failure))
    result = StepResult(RuntimeStatus.FAILED, new_events=inputs, failure=failure)
    return build_commit(inst, result, commit.consumed, now, execution_started(item))


def is_invalid_step(err: Exception) -> bool:
    """True when ``err``, raised by a store committing a step, says the step is invalid in
    itself (a payload or an id the store refuses): committing it again cannot succeed, so
    its instance fails (:func:`failed_step`) instead of being retried."""
    return isinstance(err, TypeError | ValueError | OverflowError) and not isinstance(
        err, StoreError
    )
