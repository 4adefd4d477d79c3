"""The runtime: replay executor, stores, worker, client.

Names are loaded on first use, so importing one runtime module (say the replay executor)
does not open the store machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durableflow.runtime.activity_attempts import heartbeat
    from durableflow.runtime.client import Client, OrchestrationState
    from durableflow.runtime.clock import Clock, FakeClock, SystemClock
    from durableflow.runtime.context import OrchestrationContext
    from durableflow.runtime.executor import Replayer, StepResult, replay
    from durableflow.runtime.runtime import Runtime
    from durableflow.runtime.tasks import EventWithTimeoutTask, ExternalEventTask, Task, TimerTask
    from durableflow.runtime.worker import Worker

_EXPORTS = {
    "Client": "client",
    "OrchestrationState": "client",
    "Clock": "clock",
    "FakeClock": "clock",
    "SystemClock": "clock",
    "OrchestrationContext": "context",
    "Replayer": "executor",
    "StepResult": "executor",
    "replay": "executor",
    "Runtime": "runtime",
    "EventWithTimeoutTask": "tasks",
    "ExternalEventTask": "tasks",
    "Task": "tasks",
    "TimerTask": "tasks",
    "Worker": "worker",
    "heartbeat": "activity_attempts",
}

__all__ = [
    "Client",
    "Clock",
    "EventWithTimeoutTask",
    "ExternalEventTask",
    "FakeClock",
    "OrchestrationContext",
    "OrchestrationState",
    "Replayer",
    "Runtime",
    "StepResult",
    "SystemClock",
    "Task",
    "TimerTask",
    "Worker",
    "heartbeat",
    "replay",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'durableflow.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f"durableflow.runtime.{module}"), name)
