"""The exception hierarchy: one root, structured subclasses.

Every exception carries its constructor arguments in ``args`` order so that it pickles and
crosses process boundaries (``__reduce__``) even though its ``__init__`` takes keywords.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any


class DurableflowError(Exception):
    """Root of every error durableflow raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


def _rebuild(cls: type[DurableflowError], state: dict[str, Any], args: tuple[Any, ...]) -> Any:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class PayloadError(DurableflowError, TypeError):
    """A value that must cross the durable boundary is not JSON-serializable."""


class UnknownFunctionError(DurableflowError, LookupError):
    """An orchestrator or activity name is not registered with the App."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        listing = ", ".join(self.known) if self.known else "(none registered)"
        super().__init__(
            f"unknown {kind} {name!r}: no {kind} of that name is registered. "
            f"Known {kind}s: {listing}. Register it with @app.{kind} or fix the name."
        )


class OrchestratorDefinitionError(DurableflowError, TypeError):
    """A function registered as an orchestrator cannot be one (e.g. ``async def``)."""


class InvalidInstanceIdError(DurableflowError, ValueError):
    """An instance id is empty, too long or contains control characters."""


class InstanceAlreadyExistsError(DurableflowError):
    """An instance with this id exists and is not in a terminal state."""

    def __init__(self, instance_id: str, status: str) -> None:
        self.instance_id = instance_id
        self.status = status
        super().__init__(
            f"instance {instance_id!r} already exists and is {status}; wait for it to finish, "
            "terminate it, or start with another instance id"
        )


class InstanceNotFoundError(DurableflowError, LookupError):
    """No instance has this id."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(f"no instance with id {instance_id!r}")


class InvalidStateError(DurableflowError):
    """The requested operation does not apply to the instance's current state."""


class WaitTimeoutError(DurableflowError, TimeoutError):
    """``wait_for_completion`` gave up before the instance reached a terminal state."""


class NonDeterminismError(DurableflowError):
    """Replaying the orchestrator produced different actions than its history records."""


class TaskFailedError(DurableflowError):
    """A durable task (activity or sub-orchestration) failed; raised inside the orchestrator.

    Attributes:
        task_name: the activity or sub-orchestration name.
        error_type: the qualified type name of the original exception.
        error_message: the original exception's message.
        stack_trace: the original traceback text, if any.
    """

    def __init__(
        self, task_name: str, error_type: str, error_message: str, stack_trace: str | None = None
    ) -> None:
        self.task_name = task_name
        self.error_type = error_type
        self.error_message = error_message
        self.stack_trace = stack_trace
        super().__init__(f"task {task_name!r} failed with {error_type}: {error_message}")


class SubOrchestrationFailedError(TaskFailedError):
    """A sub-orchestration ended in the FAILED state."""


class TaskCancelledError(DurableflowError):
    """Raised into an orchestrator that yields a task it cancelled (timer or event wait).

    A cancelled task never completes: yielding it, or reading ``get_result()``, raises this
    instead of waiting forever.
    """


class TimerCancelledError(TaskCancelledError):
    """Raised into an orchestrator that yields a timer it cancelled."""


class EventTimeoutError(DurableflowError, TimeoutError):
    """``wait_for_external_event(name, timeout=...)`` expired before the event arrived."""

    def __init__(self, event_name: str) -> None:
        self.event_name = event_name
        super().__init__(f"timed out waiting for external event {event_name!r}")


class ActivityTimeoutError(DurableflowError, TimeoutError):
    """An activity attempt ran longer than its timeout without a ``heartbeat()``.

    Recorded as the attempt's failure (so a ``RetryPolicy`` retries it like any other) and
    raised by ``durableflow.heartbeat()`` inside an attempt that already ended.

    Attributes:
        activity_name: the activity.
        instance_id: the instance that scheduled it.
        attempt: the attempt number (1 for the first run of this invocation).
        timeout: the timeout it exceeded.
    """

    def __init__(
        self, activity_name: str, instance_id: str, attempt: int, timeout: timedelta
    ) -> None:
        self.activity_name = activity_name
        self.instance_id = instance_id
        self.attempt = attempt
        self.timeout = timeout
        super().__init__(
            f"activity {activity_name!r} of instance {instance_id!r} (attempt {attempt}) ran "
            f"for {timeout.total_seconds():g}s without finishing or calling heartbeat(), so "
            "this attempt failed. If it is slow rather than hung, raise its timeout "
            "(call_activity(..., timeout=) or the worker's activity_timeout) or call "
            "durableflow.heartbeat() as it makes progress; its thread cannot be killed and "
            "runs on, but whatever it returns now is ignored"
        )


class StoreError(DurableflowError):
    """The store cannot be opened or used (wrong file type, corrupt, unreachable)."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """A store opened with ``create=False`` does not exist (e.g. a mistyped SQLite path)."""


class StoreLockedError(StoreError):
    """The store stayed locked by another writer for longer than the busy timeout."""


class StoreUnavailableError(StoreError, ConnectionError):
    """A store server cannot be used: unreachable, refusing the credentials, or gone.

    The message says which server (password redacted) and what failed.
    """


class LeaseLostError(DurableflowError):
    """A write was refused because the worker no longer holds the lease it was made under.

    The lease expired and another worker took the work, or the work was released, restarted
    or purged meanwhile. Nothing was written; the work runs again from what is stored.

    Attributes:
        work: what the lease was for (``instance 'x'``, ``activity 'a' (task 3 of ...)``).
        owner: the worker that held the lease.
    """

    def __init__(self, work: str, owner: str, consequence: str) -> None:
        self.work = work
        self.owner = owner
        super().__init__(f"{work} is no longer leased by {owner!r}: {consequence}")


class HistoryFormatError(DurableflowError, ValueError):
    """A history document is malformed; the message says where."""
