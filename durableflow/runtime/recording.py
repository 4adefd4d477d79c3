"""How actions and outcomes are written into history, and how recorded actions are compared.

The executor uses these to turn a step's decisions into history events and to check, on
replay, that the code still creates the action the history recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from durableflow.core import history as h
from durableflow.core.actions import Action, CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.history import HistoryEvent
from durableflow.core.status import RuntimeStatus

if TYPE_CHECKING:
    from durableflow.runtime.executor import StepResult


def matches(action: Action, event: HistoryEvent) -> bool:
    """True when ``action`` is what recorded ``event`` scheduled (same kind and name)."""
    if isinstance(event, h.TaskScheduled):
        return isinstance(action, ScheduleActivity) and action.name == event.name
    if isinstance(event, h.TimerCreated):
        return isinstance(action, CreateTimer)
    if isinstance(event, h.SubOrchestrationInstanceCreated):
        return isinstance(action, StartSubOrchestration) and action.name == event.name
    return False


def describe_event(e: HistoryEvent) -> str:
    """The call that recorded ``e``, as text for messages (``call_activity('F1')``)."""
    if isinstance(e, h.TaskScheduled):
        return f"call_activity({e.name!r})"
    if isinstance(e, h.TimerCreated):
        return f"create_timer({e.fire_at.isoformat()})"
    if isinstance(e, h.SubOrchestrationInstanceCreated):
        return f"call_sub_orchestrator({e.name!r})"
    return e.TYPE


def action_event(action: Action, stamp: datetime) -> HistoryEvent:
    """The history event that records ``action`` at time ``stamp``."""
    if isinstance(action, ScheduleActivity):
        return h.TaskScheduled(
            timestamp=stamp, task_id=action.task_id, name=action.name, input=action.input
        )
    if isinstance(action, CreateTimer):
        return h.TimerCreated(timestamp=stamp, task_id=action.task_id, fire_at=action.fire_at)
    return h.SubOrchestrationInstanceCreated(
        timestamp=stamp,
        task_id=action.task_id,
        name=action.name,
        instance_id=action.instance_id,
        input=action.input,
    )


def completion_event(done: StepResult, stamp: datetime) -> HistoryEvent:
    """The history event that ends the execution as ``done`` says."""
    if done.status is RuntimeStatus.COMPLETED:
        return h.ExecutionCompleted(timestamp=stamp, result=done.output)
    if done.status is RuntimeStatus.CONTINUED_AS_NEW:
        return h.ContinuedAsNew(timestamp=stamp, input=done.continue_input)
    if done.status is RuntimeStatus.TERMINATED:
        return h.ExecutionTerminated(timestamp=stamp, reason=done.output)
    assert done.failure is not None
    return h.ExecutionFailed(timestamp=stamp, failure=done.failure)
