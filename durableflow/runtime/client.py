"""The client: start, query, signal and manage orchestration instances."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durableflow.core import history as h
from durableflow.core import payload
from durableflow.core.app import App
from durableflow.core.errors import (
    InstanceNotFoundError,
    InvalidStateError,
    UnknownFunctionError,
    WaitTimeoutError,
)
from durableflow.core.history import FailureDetails, HistoryDocument
from durableflow.core.ids import new_instance_id, validate_instance_id
from durableflow.core.status import TERMINAL_STATUSES, RuntimeStatus
from durableflow.runtime.clock import Clock, SystemClock
from durableflow.runtime.completions import Completions
from durableflow.runtime.store import open_store
from durableflow.runtime.store.base import (
    ClientStore,
    InstanceQuery,
    InstanceRecord,
    NewInstance,
    OutgoingMessage,
    WorkerRecord,
)
from durableflow.runtime.store.composites import PURGE_BATCH, purge_ended


@dataclass(frozen=True, slots=True)
class OrchestrationState:
    """A snapshot of one instance, as ``get_status`` returns it."""

    instance_id: str
    name: str
    runtime_status: RuntimeStatus
    created_at: datetime
    last_updated_at: datetime
    input: Any = None
    output: Any = None
    failure: FailureDetails | None = None
    custom_status: Any = None
    history: list[dict[str, Any]] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI and the HTTP API print this)."""
        out: dict[str, Any] = {
            "instance_id": self.instance_id,
            "name": self.name,
            "runtime_status": self.runtime_status.value,
            "created_at": self.created_at.isoformat(),
            "last_updated_at": self.last_updated_at.isoformat(),
            "input": self.input,
            "output": self.output,
            "custom_status": self.custom_status,
            "failure": None
            if self.failure is None
            else {
                "error_type": self.failure.error_type,
                "message": self.failure.message,
                "stack_trace": self.failure.stack_trace,
            },
        }
        if self.history is not None:
            out["history"] = self.history
        return out


class Client:
    """Manages instances in a store.

    Args:
        store: a store (its client part, :class:`~durableflow.runtime.store.base.ClientStore`)
            or a store URL (``sqlite:///durable.db``, ``memory://name``).
        app: when given, ``start_new`` checks the orchestrator name against it and accepts
            functions as well as names.
        clock: time source for created/updated stamps (inject a fake clock in tests).
        on_change: called after every write, so an embedded worker can wake at once.
        completions: told by an embedded worker when instances end, so
            ``wait_for_completion`` returns at once instead of at its next poll.
    """

    def __init__(
        self,
        store: ClientStore | str,
        *,
        app: App | None = None,
        clock: Clock | None = None,
        on_change: Callable[[], None] | None = None,
        completions: Completions | None = None,
    ) -> None:
        self.store: ClientStore = open_store(store) if isinstance(store, str) else store
        self.app = app
        self.clock: Clock = clock or SystemClock()
        self._on_change = on_change or (lambda: None)
        self._completions = completions

    def start_new(
        self,
        name: str | Callable[..., Any],
        input: Any = None,
        instance_id: str | None = None,
    ) -> str:
        """Start an instance of orchestrator ``name``; returns its instance id.

        Atomic: succeeds if no instance has this id or the existing one is terminal.

        Raises:
            InstanceAlreadyExistsError: a non-terminal instance with this id exists.
            InvalidInstanceIdError: the id is empty, too long or has control characters.
            UnknownFunctionError: ``app`` was given and has no such orchestrator.
            PayloadError: ``input`` is not JSON-serializable.
        """
        orch_name = self.app.name_of(name) if self.app is not None else _plain_name(name)
        if self.app is not None and not self.app.has_orchestrator(orch_name):
            raise UnknownFunctionError(
                "orchestrator", orch_name, [*self.app.orchestrators, *self.app.graphs]
            )
        iid = new_instance_id() if instance_id is None else validate_instance_id(instance_id)
        value = payload.normalize(input, f"input of orchestration {orch_name!r}")
        now = self.clock.now()
        self.store.create_instance(
            NewInstance(
                instance_id=iid,
                name=orch_name,
                execution_id=uuid.uuid4().hex,
                input=value,
                created_at=now,
            ),
            now=now,
        )
        self._on_change()
        return iid

    def get_status(
        self, instance_id: str, show_history: bool = False, show_input: bool = True
    ) -> OrchestrationState | None:
        """The instance's current state, or ``None`` if there is no such instance."""
        record = self.store.get_instance(validate_instance_id(instance_id))
        if record is None:
            return None
        hist = None
        if show_history:
            hist = [h.event_to_dict(e) for e in self.store.get_history(instance_id)]
        return _state(record, show_input, hist)

    def wait_for_completion(
        self, instance_id: str, timeout: float = 60.0, poll_interval: float = 0.02
    ) -> OrchestrationState:
        """Block until the instance is COMPLETED, FAILED or TERMINATED.

        Polls the store, backing off from ``poll_interval`` to 0.1 s, since the instance
        may run in another process; a client of a ``Runtime`` is also woken by the
        embedded worker the moment the instance ends.

        Raises:
            WaitTimeoutError: not terminal after ``timeout`` seconds (the instance goes on).
            InstanceNotFoundError: no such instance.
        """
        deadline = time.monotonic() + timeout
        interval = poll_interval
        # Watch first: an end between the status read and the wait must still wake us.
        waiter = (
            threading.Event() if self._completions is None else self._completions.watch(instance_id)
        )
        try:
            while True:
                state = self.get_status(instance_id)
                if state is None:
                    raise InstanceNotFoundError(instance_id)
                if state.runtime_status.is_terminal:
                    return state
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeoutError(
                        f"instance {instance_id!r} is still {state.runtime_status.value} "
                        f"after {timeout}s; it keeps running - wait again or check "
                        "`durable status`"
                    )
                if waiter.wait(min(interval, left)):
                    waiter.clear()
                interval = min(interval * 1.5, 0.1)
        finally:
            if self._completions is not None:
                self._completions.unwatch(instance_id, waiter)

    def raise_event(self, instance_id: str, event_name: str, data: Any = None) -> None:
        """Deliver external event ``event_name`` with ``data`` to a running instance.

        Raises:
            InstanceNotFoundError: no such instance.
            InvalidStateError: the instance has already ended.
        """
        record = self._require(instance_id)
        if record.status.is_terminal:
            raise InvalidStateError(
                f"instance {instance_id!r} is {record.status.value}; it can no longer "
                f"receive event {event_name!r}"
            )
        value = payload.normalize(data, f"data of event {event_name!r}")
        self._send(
            instance_id, h.EventRaised(timestamp=self.clock.now(), name=event_name, input=value)
        )

    def terminate(self, instance_id: str, reason: Any = None) -> None:
        """Stop a running or suspended instance; it ends TERMINATED.

        Raises:
            InstanceNotFoundError, InvalidStateError (already ended).
        """
        self._require_live(instance_id, "terminate")
        self._send(
            instance_id,
            h.ExecutionTerminated(
                timestamp=self.clock.now(), reason=payload.normalize(reason, "terminate reason")
            ),
        )

    def suspend(self, instance_id: str, reason: Any = None) -> None:
        """Pause an instance: events it receives wait until it is resumed."""
        self._require_live(instance_id, "suspend")
        self._send(
            instance_id,
            h.ExecutionSuspended(
                timestamp=self.clock.now(), reason=payload.normalize(reason, "suspend reason")
            ),
        )

    def resume(self, instance_id: str, reason: Any = None) -> None:
        """Resume a suspended instance."""
        self._require_live(instance_id, "resume")
        self._send(
            instance_id,
            h.ExecutionResumed(
                timestamp=self.clock.now(), reason=payload.normalize(reason, "resume reason")
            ),
        )

    def purge(self, instance_id: str) -> bool:
        """Delete an ended instance and its history; False if it did not exist.

        Raises:
            InvalidStateError: the instance is still running (terminate it first).
        """
        return self.store.purge(validate_instance_id(instance_id))

    def list_workers(self) -> list[WorkerRecord]:
        """The workers registered in the store (oldest first), alive or recently dead, with
        the leases each holds now; ``record.alive(now)`` tells which are alive."""
        return self.store.list_workers(now=self.clock.now())

    def purge_instances(
        self,
        older_than: timedelta,
        status: RuntimeStatus | str | Iterable[RuntimeStatus | str] | None = None,
        *,
        batch: int = PURGE_BATCH,
    ) -> int:
        """Delete every ended instance that ended more than ``older_than`` ago; how many.

        Age is counted from the instance's end (``completed_at``), on this client's clock.
        Instances go in batches of ``batch``, one store transaction each, so a large purge
        never holds the store's write lock for long; what was purged before an error stays
        purged.

        Args:
            older_than: how long ago an instance must have ended.
            status: only these ended statuses (default: COMPLETED, FAILED and TERMINATED).
            batch: instances per transaction.

        Raises:
            ValueError: a status that is not COMPLETED, FAILED or TERMINATED, a batch
                below 1, or a negative age.
        """
        if older_than < timedelta(0):
            raise ValueError(f"older_than must not be negative, not {older_than}")
        statuses = _status_set(status)
        return purge_ended(
            self.store,
            completed_before=self.clock.now() - older_than,
            statuses=TERMINAL_STATUSES if statuses is None else statuses,
            batch=batch,
        )

    def list_instances(
        self,
        status: RuntimeStatus | str | Iterable[RuntimeStatus | str] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        name_prefix: str | None = None,
        limit: int = 1000,
        *,
        instance_id_prefix: str | None = None,
        after: tuple[datetime, str] | None = None,
        show_input: bool = True,
    ) -> list[OrchestrationState]:
        """Instances matching every given filter, newest first.

        Args:
            status: one status or several (any of them matches), as ``RuntimeStatus``
                members or their names in any letter case (``"completed"``).
            created_from: created at or after this (timezone-aware) time.
            created_to: created at or before this (timezone-aware) time.
            name_prefix: orchestrator names starting with this.
            limit: at most this many instances.
            instance_id_prefix: instance ids starting with this.
            after: the ``(created_at, instance_id)`` of the last state of one page, to get
                the next (see :class:`~durableflow.runtime.store.InstanceQuery`).
            show_input: include each instance's input.

        Raises:
            ValueError: a status name that does not exist, or a naive datetime.
        """
        statuses = _status_set(status)
        query = InstanceQuery(
            statuses, created_from, created_to, name_prefix, limit, instance_id_prefix, after
        )
        return [_state(r, show_input, None) for r in self.store.list_instances(query)]

    def get_history(self, instance_id: str) -> HistoryDocument:
        """The instance's history as a document (``.to_json()`` exports it for replay)."""
        record = self._require(instance_id)
        return HistoryDocument(
            instance_id=instance_id,
            name=record.name,
            events=self.store.get_history(instance_id),
        )

    # -- helpers ------------------------------------------------------------------------
    def _require(self, instance_id: str) -> InstanceRecord:
        record = self.store.get_instance(validate_instance_id(instance_id))
        if record is None:
            raise InstanceNotFoundError(instance_id)
        return record

    def _require_live(self, instance_id: str, verb: str) -> None:
        record = self._require(instance_id)
        if record.status.is_terminal:
            raise InvalidStateError(
                f"cannot {verb} instance {instance_id!r}: it is already {record.status.value}"
            )

    def _send(self, instance_id: str, event: h.HistoryEvent) -> None:
        self.store.send(OutgoingMessage(instance_id, event), now=self.clock.now())
        self._on_change()


def _plain_name(name: str | Callable[..., Any]) -> str:
    return name if isinstance(name, str) else getattr(name, "__name__", str(name))


def _state(
    record: InstanceRecord, show_input: bool, hist: list[dict[str, Any]] | None
) -> OrchestrationState:
    return OrchestrationState(
        instance_id=record.instance_id,
        name=record.name,
        runtime_status=record.status,
        created_at=record.created_at,
        last_updated_at=record.updated_at,
        input=record.input if show_input else None,
        output=record.output,
        failure=record.failure,
        custom_status=record.custom_status,
        history=hist,
    )


def _status_set(
    status: RuntimeStatus | str | Iterable[RuntimeStatus | str] | None,
) -> frozenset[RuntimeStatus] | None:
    """One status or several, as members or names in any letter case; None for none given."""
    if status is None:
        return None
    many = [status] if isinstance(status, (RuntimeStatus, str)) else list(status)
    return frozenset(RuntimeStatus.parse(s) for s in many)
