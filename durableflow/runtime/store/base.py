"""The Store protocol: what clients (:class:`ClientStore`) and workers (:class:`WorkerStore`)
need from durable storage.

One transaction per orchestration step (:meth:`WorkerStore.commit_orchestrations`): append
the step's history events, enqueue the work it scheduled, update the instance row and
delete the messages it consumed. A crash anywhere loses nothing and duplicates no committed step.

Work is leased: a worker that locks an instance or an activity owns it until its lease
expires. Commits check ownership, so a worker that lost its lease cannot write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import LeaseLostError as LeaseLostError  # re-exported
from durableflow.core.history import FailureDetails, HistoryEvent
from durableflow.core.status import RuntimeStatus


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """The row describing one orchestration instance."""

    instance_id: str
    name: str
    execution_id: str
    status: RuntimeStatus
    created_at: datetime
    updated_at: datetime
    input: Any = None
    output: Any = None
    failure: FailureDetails | None = None
    custom_status: Any = None
    parent_instance_id: str | None = None
    parent_task_id: int | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """An event waiting in an instance's inbox.

    ``execution_id`` is set for replies to work an execution scheduled (activity results,
    timers, sub-orchestration results) and ``None`` for events aimed at whatever execution
    is current (external events, terminate, suspend, resume, start).
    """

    message_id: int
    instance_id: str
    event: HistoryEvent
    visible_at: datetime
    execution_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrchestrationWorkItem:
    """A locked instance: its row, its history and the messages visible now.

    ``history`` is read-only (a store may share it with its cache); ``epoch`` is the
    store's name for this generation of the history (it changes when the history is reset),
    empty where a store has no use for it. ``fence`` is the store's fencing token for this
    grant of the lease (a counter bumped on every grant, checked by the commit), 0 where a
    store recognises a lease by its owner and expiry instead; opaque to everyone else.
    """

    instance: InstanceRecord
    history: Sequence[HistoryEvent]
    messages: list[Message]
    lease_owner: str
    lease_expires: datetime
    epoch: str = ""
    fence: int = 0


@dataclass(frozen=True, slots=True)
class ActivityLease:
    """One grant of an activity's lease, named the way the store that granted it chooses.

    Opaque to everyone but that store: ``key`` holds whatever the store needs to recognise
    the grant (a row id, an attempt counter, a fencing epoch) and nothing else may read it
    or build one. A holder compares leases and uses them as keys: two work items hold the
    same lease exactly when their leases are equal, and a store never grants a lease equal
    to one it granted before (not for another attempt, nor for another activity that took
    over a finished one's storage). Renewing a lease keeps it (only its expiry moves).
    """

    key: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ActivityWorkItem:
    """A locked activity invocation.

    ``lease`` is what the store checks when the item comes back (completion, renewal,
    release); ``attempt`` and ``lease_owner`` are for people (logs, errors), and a store
    does not trust them. ``timeout`` is the per-attempt timeout its ``call_activity`` asked
    for (``None``: the worker's default applies).
    """

    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: Any
    attempt: int
    lease_owner: str
    lease_expires: datetime
    lease: ActivityLease
    timeout: timedelta | None = None


@dataclass(frozen=True, slots=True)
class NewInstance:
    """An instance to create (client start or sub-orchestration start).

    The store creates the row in PENDING state with a fresh ``execution_id`` and queues an
    :class:`~durableflow.core.history.ExecutionStarted` message for it.
    """

    instance_id: str
    name: str
    execution_id: str
    input: Any
    created_at: datetime
    parent_instance_id: str | None = None
    parent_task_id: int | None = None
    parent_execution_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """An event to put in some instance's inbox (``visible_at`` None: visible now)."""

    instance_id: str
    event: HistoryEvent
    visible_at: datetime | None = None
    execution_id: str | None = None


@dataclass(slots=True)
class OrchestrationCommit:
    """Everything one orchestration step writes, applied atomically.

    Attributes:
        new_events: appended to the instance's history, in order.
        status / output / failure / custom_status: the instance row's new values.
        activities: activity invocations to queue (for the current execution).
        messages: events for inboxes, this instance's own included (timers use
            ``visible_at``); events for instances that do not exist are dropped.
        new_instances: sub-orchestrations to create. If a non-terminal instance with that id
            exists, the store instead queues a ``SubOrchestrationInstanceFailed`` reply.
        consumed: message ids to delete (they were applied or discarded by this step).
        continue_as_new: when set, the history is cleared after appending ``new_events``,
            the row gets this new execution id and status CONTINUED_AS_NEW, and
            ``continue_messages`` are queued for the new execution (ExecutionStarted first).
        lease_activities_to / lease_limit: when set, the first ``lease_limit`` activities
            are inserted already leased to ``(owner, expires)`` (attempt 1), and the store
            appends their work items to ``leased``: the committing worker runs them at once
            without another lock transaction.
    """

    new_events: list[HistoryEvent]
    status: RuntimeStatus
    output: Any = None
    failure: FailureDetails | None = None
    custom_status: Any = None
    activities: list[ScheduleActivity] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)
    new_instances: list[NewInstance] = field(default_factory=list)
    consumed: list[int] = field(default_factory=list)
    continue_as_new: str | None = None
    continue_messages: list[HistoryEvent] = field(default_factory=list)
    lease_activities_to: tuple[str, datetime] | None = None
    lease_limit: int = 0
    leased: list[ActivityWorkItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A worker as it last reported itself, and what it holds now.

    Attributes:
        owner: the worker's lease owner name (its identity).
        host / pid: where it runs.
        started_at: its first heartbeat.
        heartbeat_at / expires_at: its last heartbeat, and until when that vouches for it.
        orchestrations / activities: unexpired leases it holds (instances, activity attempts).
    """

    owner: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    orchestrations: int = 0
    activities: int = 0

    def alive(self, now: datetime) -> bool:
        """Whether its last heartbeat still vouches for it at ``now``."""
        return self.expires_at > now


@dataclass(frozen=True, slots=True)
class InstanceQuery:
    """Filters for :meth:`Store.list_instances`; ``None`` means no filter.

    Results come newest first, ordered by ``(created_at, instance_id)`` descending.
    ``after`` pages through them: given the ``(created_at, instance_id)`` of the last row
    of a page, only rows that come after it in that order are returned, so a page is never
    shifted by instances created or purged since the last one.
    """

    statuses: frozenset[RuntimeStatus] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    name_prefix: str | None = None
    limit: int = 1000
    instance_id_prefix: str | None = None
    after: tuple[datetime, str] | None = None


@dataclass(slots=True)
class PlannedStep:
    """A step decided without holding the instance, from a history the worker already had.

    Attributes:
        instance: the instance as the worker last saw it (its id, name and execution).
        history_len: how many events the history had when the step was decided.
        epoch: the history's epoch then (``OrchestrationWorkItem.epoch``).
        commit: the step, as it is to be applied (its last new event is the result).
    """

    instance: InstanceRecord
    history_len: int
    epoch: str
    commit: OrchestrationCommit


StepDecider = Callable[[OrchestrationWorkItem], "OrchestrationCommit | None"]
"""Given a locked instance, the commit of its next step (or None to leave it)."""


class ClientStore(Protocol):
    """What a client needs: start instances, read their state and history, send them events
    (raise, terminate, suspend, resume), list and purge them.

    A client never holds a lease, so a backend can serve it from any connection.
    """

    url: str

    def create_instance(self, new: NewInstance, *, now: datetime) -> None:
        """Create an instance atomically and queue its ExecutionStarted message.

        Succeeds if no instance has this id or the existing one is terminal (its history,
        inbox and activities are then replaced). Raises ``InstanceAlreadyExistsError``
        otherwise. No check-then-act race: the check and the write are one transaction.
        """
        ...

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance row, or None."""
        ...

    def list_instances(self, query: InstanceQuery) -> list[InstanceRecord]:
        """Instances matching ``query``, newest first."""
        ...

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        """The current execution's history, in order (empty if unknown)."""
        ...

    def send(self, message: OutgoingMessage, *, now: datetime) -> None:
        """Queue an event for an existing instance.

        Raises:
            InstanceNotFoundError: no such instance.
        """
        ...

    def purge(self, instance_id: str) -> bool:
        """Delete a terminal instance and everything it owns; False if it did not exist.

        Raises:
            InvalidStateError: the instance is not terminal.
        """
        ...

    def list_workers(self, *, now: datetime) -> list[WorkerRecord]:
        """Registered workers, oldest start first, with the leases each holds at ``now``.

        Workers that stopped cleanly are gone; one that died stays, not alive, until a
        day after its last heartbeat expired.
        """
        ...

    def purge_instances(
        self, *, completed_before: datetime, statuses: frozenset[RuntimeStatus], limit: int
    ) -> int:
        """Delete one batch of ended instances and everything they own; the number deleted.

        At most ``limit`` instances whose status is in ``statuses`` and that ended
        (``completed_at``) strictly before ``completed_before``, oldest ending first, go in
        one transaction, so a caller purging many loops over bounded batches and never
        holds the write lock for long. Rows owned by an instance (history, messages and
        timers, activities) go with it, so a purged id can be started afresh.

        Raises:
            ValueError: ``statuses`` is empty or names a status that is not terminal, or
                ``limit`` is below 1.
        """
        ...

    def close(self) -> None:
        """Release connections. Idempotent."""
        ...


class Subscription(Protocol):
    """A store's notifications to one listener, until closed (:meth:`WorkerStore.subscribe`)."""

    def close(self) -> None:
        """Stop notifying; the listener is not called after this returns. Idempotent."""
        ...


class NoNotifications:
    """The subscription of a store without notifications: it never calls its listener."""

    __slots__ = ()

    def close(self) -> None:
        """Nothing to stop."""


class WorkerStore(Protocol):
    """What a worker needs: lease work, commit steps, complete activities, keep and release
    leases. Every write is checked against the lease it was made under.

    Single-item forms of the batch operations (lock one instance, commit one step) are
    written once for every backend in :mod:`durableflow.runtime.store.composites`.
    """

    url: str

    def lock_orchestrations(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        results: Sequence[tuple[ActivityWorkItem, HistoryEvent]] = (),
    ) -> list[OrchestrationWorkItem]:
        """Lease up to ``limit`` instances that have messages visible at ``now`` and no live
        lease, oldest visible message first (ties: by id), in one transaction, so a busy
        worker pays one transaction for a batch of steps.

        The history's events (and their payloads) may be shared with the store's own cache
        and with earlier work items: treat them as read-only, and copy a payload before
        handing it to code that may mutate it.

        ``results`` are activity results recorded first, in the same transaction, as
        :meth:`complete_activity` would record each (one whose activity lease was lost is
        dropped), so that they and the steps they wake cost one transaction.
        """
        ...

    def commit_orchestrations(
        self,
        batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]],
        *,
        now: datetime,
    ) -> list[bool]:
        """Apply several commits, each only if its lease still holds; one result per item.

        An item's lease no longer holds when ``item.lease_owner`` no longer owns the
        instance or the history grew since the item was locked; nothing of that item is
        written. A durable backend applies them in one transaction, so a batch costs one
        fsync. A commit that cannot be stored (a payload that is not JSON) fails the whole
        call before anything is written.
        """
        ...

    def abandon_orchestration(self, item: OrchestrationWorkItem) -> None:
        """Release the lease without writing anything (the messages stay queued)."""
        ...

    def lock_activity(
        self, owner: str, *, now: datetime, lease: timedelta
    ) -> ActivityWorkItem | None:
        """Lease one queued activity whose lease is free or expired (oldest first)."""
        ...

    def complete_activity(
        self, item: ActivityWorkItem, result: HistoryEvent, *, now: datetime
    ) -> None:
        """Delete the activity and queue ``result`` (TaskCompleted/TaskFailed) for its
        instance, in one transaction.

        Raises:
            LeaseLostError: another worker owns the activity now; nothing was written.
        """
        ...

    def complete_activity_and_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        *,
        now: datetime,
        lease: timedelta,
        decide: StepDecider,
    ) -> tuple[OrchestrationWorkItem, OrchestrationCommit] | None:
        """Record ``result`` as :meth:`complete_activity` does and, in the same transaction,
        lease the activity's instance to the activity's owner if no one holds it, call
        ``decide`` with its work item, and apply the commit ``decide`` returns.

        Returns the work item and the applied commit, or ``None`` when the instance was
        held elsewhere or ``decide`` returned ``None`` (then only the result is recorded and
        the lease is released). One transaction per step in a chain of activities.

        Raises:
            LeaseLostError: another worker owns the activity now; nothing was written.
        """
        ...

    def complete_activity_with_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        step: PlannedStep,
        *,
        now: datetime,
    ) -> bool:
        """Record ``result`` and apply ``step`` (decided ahead of time, with ``result``
        as its input) in one durable transaction, if the instance is still as the step
        assumed: no live lease, the same execution, history and epoch, and no other message
        visible now. Otherwise record only the result, as :meth:`complete_activity` does,
        and return False.

        Raises:
            LeaseLostError: another worker owns the activity now; nothing was written.
        """
        ...

    def abandon_activity(self, item: ActivityWorkItem) -> None:
        """Release the activity's lease so another worker can run it."""
        ...

    def renew_activity_lease(self, item: ActivityWorkItem, *, until: datetime) -> bool:
        """Extend a running activity's lease; False if the lease was lost."""
        ...

    def release_leases(self, owner: str) -> int:
        """Release every instance and activity lease ``owner`` holds, as a worker that stops
        gracefully does, so that others take its work at once instead of when the leases
        expire. Commits and completions still under way for ``owner`` are then refused
        (``LeaseLostError``), as after an expiry. Returns how many leases were released.
        """
        ...

    def heartbeat_worker(
        self, owner: str, *, host: str, pid: int, now: datetime, expires: datetime
    ) -> None:
        """Record that worker ``owner`` is alive until ``expires``.

        The first heartbeat registers it (``started_at`` = ``now``). Each heartbeat also
        forgets workers whose heartbeat expired more than a day before ``now``.
        """
        ...

    def unregister_worker(self, owner: str) -> None:
        """Forget worker ``owner`` (it stopped); nothing if it is not registered."""
        ...

    def subscribe(
        self, on_work: Callable[[], None], on_activities: Callable[[], None] | None = None
    ) -> Subscription:
        """Call ``on_work`` (from any thread) soon after work may have become visible that
        this store's own writes did not make through this object; with ``on_activities``,
        call that one instead where the work is activities alone (so that a worker wakes
        only the loop that takes it).

        A worker subscribes while it runs, to pick up work that other processes (other
        workers, other hosts' clients) made ready without waiting for its poll interval.
        ``on_work`` must be quick and must not call the store. A store without
        notifications returns a subscription that does nothing: polling stays the
        fallback, and is always correct on its own.
        """
        ...

    def next_wake_time(self) -> datetime | None:
        """The earliest ``visible_at`` of any queued message or activity, if any.

        For work that is leased right now, its lease expiry counts instead (whichever is
        later), so an idle worker does not spin while another worker holds the work.
        """
        ...

    def close(self) -> None:
        """Release connections. Idempotent."""
        ...


class Store(ClientStore, WorkerStore, Protocol):
    """Durable storage for instances, histories, inboxes and activity queues: the client
    part and the worker part of one backend."""
