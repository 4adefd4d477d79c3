"""Actions an orchestration step asks the runtime to carry out.

The replay executor turns new tasks into actions; the worker turns actions into queued work in
the same transaction that appends their history events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from durableflow.core.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class ScheduleActivity:
    """Run activity ``name`` with ``input``; report back as task ``task_id``.

    ``timeout`` bounds each attempt (see ``OrchestrationContext.call_activity``); ``None``
    leaves it to the worker's default.
    """

    task_id: int
    name: str
    input: Any = None
    timeout: timedelta | None = None
    KIND = "activity"

    def describe(self) -> str:
        """Human text used in nondeterminism messages."""
        return f"call_activity({self.name!r})"


@dataclass(frozen=True, slots=True)
class CreateTimer:
    """Fire durable timer ``task_id`` at ``fire_at`` (UTC)."""

    task_id: int
    fire_at: datetime
    KIND = "timer"

    def describe(self) -> str:
        """Human text used in nondeterminism messages."""
        return f"create_timer({self.fire_at.isoformat()})"


@dataclass(frozen=True, slots=True)
class StartSubOrchestration:
    """Start orchestration ``name`` as child ``instance_id``; report back as task ``task_id``."""

    task_id: int
    name: str
    instance_id: str
    input: Any = None
    KIND = "sub_orchestration"

    def describe(self) -> str:
        """Human text used in nondeterminism messages."""
        return f"call_sub_orchestrator({self.name!r})"


Action = ScheduleActivity | CreateTimer | StartSubOrchestration


def activity_timeout(value: timedelta | float | None, where: str) -> timedelta | None:
    """An activity timeout given as a ``timedelta`` or seconds, checked to be positive.

    Raises:
        ValueError: it is zero, negative or not a number; the message names ``where``.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (timedelta, int, float)):
        raise ValueError(
            f"{where} must be a timedelta or a number of seconds, not {type(value).__name__}"
        )
    timeout = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if not timeout > timedelta(0):
        raise ValueError(f"{where} must be positive, got {value!r}; pass None for no timeout")
    return timeout


__all__ = [
    "Action",
    "CreateTimer",
    "RetryPolicy",
    "ScheduleActivity",
    "StartSubOrchestration",
    "activity_timeout",
]
