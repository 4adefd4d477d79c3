"""durableflow: durable workflow-as-code for Python.

Write orchestrators as generator functions, lint them with ``durable-lint``, compile and draw
them with ``durable graph``, and run them on SQLite with :class:`Runtime`.

The runtime names load on first use, so ``import durableflow.linter`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from durableflow.core import (
    ActivityTimeoutError,
    App,
    DurableflowError,
    EventTimeoutError,
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceIdError,
    NonDeterminismError,
    PayloadError,
    RetryPolicy,
    RuntimeStatus,
    SubOrchestrationFailedError,
    TaskCancelledError,
    TaskFailedError,
    TimerCancelledError,
    UnknownFunctionError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from durableflow.runtime.activity_attempts import heartbeat
    from durableflow.runtime.client import Client, OrchestrationState
    from durableflow.runtime.clock import FakeClock
    from durableflow.runtime.context import OrchestrationContext
    from durableflow.runtime.runtime import Runtime

__version__ = "0.1.0"

# Resolved through durableflow.runtime's own lazy table on first use.
_RUNTIME_EXPORTS = frozenset(
    {"Client", "OrchestrationState", "FakeClock", "OrchestrationContext", "Runtime", "heartbeat"}
)

__all__ = [
    "ActivityTimeoutError",
    "App",
    "Client",
    "DurableflowError",
    "EventTimeoutError",
    "FakeClock",
    "InstanceAlreadyExistsError",
    "InstanceNotFoundError",
    "InvalidInstanceIdError",
    "NonDeterminismError",
    "OrchestrationContext",
    "OrchestrationState",
    "PayloadError",
    "RetryPolicy",
    "Runtime",
    "RuntimeStatus",
    "SubOrchestrationFailedError",
    "TaskCancelledError",
    "TaskFailedError",
    "TimerCancelledError",
    "UnknownFunctionError",
    "WaitTimeoutError",
    "heartbeat",
]


def __getattr__(name: str) -> Any:
    if name not in _RUNTIME_EXPORTS:
        raise AttributeError(f"module 'durableflow' has no attribute {name!r}")
    return getattr(importlib.import_module("durableflow.runtime"), name)
