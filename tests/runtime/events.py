"""Small constructors for history events, so executor tests read as histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from durableflow.core import history as h

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(seconds: float = 0) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def started(
    name: str = "orch", input: Any = None, iid: str = "i1", t: float = 0
) -> list[h.HistoryEvent]:
    """The first step's inputs: OrchestratorStarted + ExecutionStarted."""
    return [
        h.OrchestratorStarted(timestamp=at(t)),
        h.ExecutionStarted(
            timestamp=at(t), name=name, instance_id=iid, execution_id="e1", input=input
        ),
    ]


def step(t: float, *events: h.HistoryEvent) -> list[h.HistoryEvent]:
    """A later step's inputs: OrchestratorStarted at ``t`` + ``events``."""
    return [h.OrchestratorStarted(timestamp=at(t)), *events]


def done(task_id: int, result: Any = None, t: float = 0) -> h.TaskCompleted:
    """TaskCompleted."""
    return h.TaskCompleted(timestamp=at(t), task_id=task_id, result=result)


def failed(
    task_id: int, error: str = "ValueError", msg: str = "boom", t: float = 0
) -> h.TaskFailed:
    """TaskFailed."""
    return h.TaskFailed(
        timestamp=at(t), task_id=task_id, failure=h.FailureDetails(error, msg, "Traceback: ...")
    )


def fired(task_id: int, t: float) -> h.TimerFired:
    """TimerFired at ``t``."""
    return h.TimerFired(timestamp=at(t), task_id=task_id, fire_at=at(t))


def raised(name: str, value: Any = None, t: float = 0) -> h.EventRaised:
    """EventRaised."""
    return h.EventRaised(timestamp=at(t), name=name, input=value)
