"""Exception classes a compiled graph may name in ``except`` clauses and ``raise`` statements.

Built-in exceptions plus durableflow's task errors; a graph cannot construct exception classes
defined in user code, because the interpreter never imports the orchestrator's module.
"""

from __future__ import annotations

import builtins

from durableflow.core import errors as _errors

__all__ = ["EXCEPTION_CLASSES", "TASK_ERRORS"]

EXCEPTION_CLASSES: dict[str, type[Exception]] = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception) and not name.startswith("_")
}
for _cls in (
    _errors.DurableflowError,
    _errors.TaskFailedError,
    _errors.SubOrchestrationFailedError,
    _errors.EventTimeoutError,
    _errors.TaskCancelledError,
    _errors.TimerCancelledError,
    _errors.NonDeterminismError,
    _errors.PayloadError,
):
    EXCEPTION_CLASSES[_cls.__name__] = _cls

TASK_ERRORS = frozenset(
    {
        "TaskFailedError",
        "SubOrchestrationFailedError",
        "EventTimeoutError",
        "TaskCancelledError",
        "TimerCancelledError",
    }
)
"""Names that only durable operations raise: catching them needs error edges only from
durable nodes (and from expressions calling ``get_result``)."""
