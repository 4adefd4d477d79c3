"""durableflow: durable workflow-as-code for Python.

Write orchestrators as generator functions, lint them with ``durable-lint``, compile and draw
them with ``durable graph``, and run them on SQLite with :class:`Runtime`.

The runtime names load on first use, so ``import durableflow.linter`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from durableflow.core import (
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
    TaskFailedError,
    UnknownFunctionError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from durableflow.runtime.client import Client, OrchestrationState
    from durableflow.runtime.clock import FakeClock
    from durableflow.runtime.context import OrchestrationContext
    from durableflow.runtime.runtime import Runtime

__version__ = "0.1.0"

_RUNTIME_EXPORTS = {
    "Client": "client",
    "OrchestrationState": "client",
    "FakeClock": "clock",
    "OrchestrationContext": "context",
    "Runtime": "runtime",
}

__all__ = [
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
    "TaskFailedError",
    "UnknownFunctionError",
    "WaitTimeoutError",
]


def __getattr__(name: str) -> Any:
    module = _RUNTIME_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'durableflow' has no attribute {name!r}")
    return getattr(importlib.import_module(f"durableflow.runtime.{module}"), name)
