"""The orchestration context: the only door from orchestrator code to durable operations."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from durableflow.core import payload
from durableflow.core.actions import (
    CreateTimer,
    ScheduleActivity,
    StartSubOrchestration,
    activity_timeout,
)
from durableflow.core.errors import InvalidInstanceIdError
from durableflow.core.ids import child_instance_id, validate_instance_id
from durableflow.core.retry import RetryPolicy
from durableflow.runtime.instance_log import retrying
from durableflow.runtime.tasks import (
    EventWithTimeoutTask,
    ExternalEventTask,
    RetryableTask,
    ScheduledTask,
    Task,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

if TYPE_CHECKING:
    from durableflow.runtime.executor import Replayer

# Name-based UUIDs for ctx.new_uuid(): a fixed namespace keeps them stable across releases.
_UUID_NAMESPACE = uuid.UUID("9e952958-5e33-4daf-827f-2fa12937b875")
_PACKAGE_DIR = __file__.rsplit("/", 2)[0]


class _ReplaySafeLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger that stays silent while the orchestrator replays past steps."""

    def __init__(self, logger: logging.Logger, ctx: OrchestrationContext) -> None:
        super().__init__(logger, {"instance_id": ctx.instance_id})
        self._ctx = ctx

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        """Add ``instance_id`` to each record, keeping the caller's own ``extra``."""
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs

    def isEnabledFor(self, level: int) -> bool:
        return not self._ctx.is_replaying and self.logger.isEnabledFor(level)

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            super().log(level, msg, *args, **kwargs)


class OrchestrationContext:
    """Passed as the first argument to every orchestrator.

    Every method that returns a :class:`~durableflow.runtime.tasks.Task` is durable: yield the
    task to wait for it. Everything here is identical on every replay.
    """

    def __init__(self, replayer: Replayer) -> None:
        self._r = replayer
        self._uuid_counter = 0
        self._logger: _ReplaySafeLogger | None = None
        self.source_hint: Callable[[], str | None] | None = None
        """Optional override for where an action came from (used by the graph interpreter)."""

    # -- replay-safe values -------------------------------------------------------------
    @property
    def instance_id(self) -> str:
        """This instance's id."""
        return self._r.instance_id

    @property
    def execution_id(self) -> str:
        """This execution's id (changes on ``continue_as_new``)."""
        return self._r.execution_id

    @property
    def name(self) -> str:
        """The orchestrator name this instance runs."""
        return self._r.name

    @property
    def current_utc_datetime(self) -> datetime:
        """The current step's time, from history: the same on every replay."""
        return self._r.current_time

    @property
    def is_replaying(self) -> bool:
        """True while the code re-runs steps already recorded in history."""
        return self._r.is_replaying

    @property
    def parent_instance_id(self) -> str | None:
        """The parent's instance id when this is a sub-orchestration."""
        return self._r.parent_instance_id

    @property
    def logger(self) -> logging.LoggerAdapter:  # type: ignore[type-arg]
        """A logger that writes nothing while replaying, so each line appears once.

        Its records carry ``instance_id`` (``%(instance_id)s`` in a format string).
        """
        if self._logger is None:
            base = logging.getLogger(f"durableflow.orchestration.{self._r.name}")
            self._logger = _ReplaySafeLogger(base, self)
        return self._logger

    def new_uuid(self) -> str:
        """A UUID derived from the instance, execution and a counter: stable across replays.

        Returned as its canonical string (``"8b3f...-..."``, as ``str(uuid.UUID)`` writes it),
        like Durable Functions' and durabletask's ``new_uuid``, so it is a payload as it is;
        ``uuid.UUID(ctx.new_uuid())`` gives the object.
        """
        self._uuid_counter += 1
        key = f"{self._r.instance_id}:{self._r.execution_id}:{self._uuid_counter}"
        return str(uuid.uuid5(_UUID_NAMESPACE, key))

    def set_custom_status(self, value: Any) -> None:
        """Publish a JSON value that clients see in ``get_status().custom_status``."""
        self._r.custom_status = payload.normalize(
            value, f"custom status of orchestration {self._r.name!r}"
        )

    # -- durable operations -------------------------------------------------------------
    def call_activity(
        self,
        name_or_fn: str | Callable[..., Any],
        input: Any = None,
        retry: RetryPolicy | None = None,
        timeout: timedelta | float | None = None,
    ) -> Task:
        """Schedule an activity (by registered name or by function).

        ``timeout`` (a ``timedelta`` or seconds) fails an attempt that runs that long
        without finishing or calling ``durableflow.heartbeat()``, with
        ``ActivityTimeoutError``; ``retry`` then retries it like any other failure. Each
        attempt gets the full timeout. ``None``: the worker's ``activity_timeout``.
        """
        name = self._r.resolve_activity_name(name_or_fn)
        value = payload.normalize(input, f"input of activity {name!r}")
        limit = (
            None if timeout is None else activity_timeout(timeout, f"timeout of activity {name!r}")
        )
        return self._with_retry(
            lambda: self._r.schedule(
                lambda seq: ScheduleActivity(seq, name, value, limit), self._where()
            ),
            retry,
        )

    def call_sub_orchestrator(
        self,
        name_or_fn: str | Callable[..., Any],
        input: Any = None,
        instance_id: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Task:
        """Start a child orchestration and wait for its output.

        The child's id defaults to ``"<parent id>:<sequence number>"`` (past 256 characters,
        the parent part is cut and followed by a hash of it: see
        :func:`~durableflow.core.ids.child_instance_id`), so it is the same on every replay.

        Raises:
            InvalidInstanceIdError: ``instance_id`` is not a usable id (empty, over 256
                characters, control characters); raised here, into the orchestrator.
        """
        name = self._r.resolve_orchestrator_name(name_or_fn)
        value = payload.normalize(input, f"input of sub-orchestration {name!r}")
        if instance_id is not None:
            self._check_child_id(name, instance_id)

        def make(seq: int) -> StartSubOrchestration:
            child_id = (
                instance_id if instance_id is not None else child_instance_id(self.instance_id, seq)
            )
            return StartSubOrchestration(seq, name, child_id, value)

        return self._with_retry(lambda: self._r.schedule(make, self._where()), retry)

    def create_timer(self, fire_at: datetime | timedelta) -> TimerTask:
        """A durable timer due at ``fire_at`` (aware UTC datetime, or a delay from now)."""
        if isinstance(fire_at, timedelta):
            fire_at = self.current_utc_datetime + fire_at
        if fire_at.tzinfo is None:
            raise ValueError(
                "create_timer needs a timezone-aware datetime; build it from "
                "ctx.current_utc_datetime (e.g. ctx.current_utc_datetime + timedelta(hours=1))"
            )
        task = self._r.schedule(lambda seq: CreateTimer(seq, fire_at), self._where())
        assert isinstance(task, TimerTask)
        return task

    def wait_for_external_event(
        self, name: str, timeout: timedelta | datetime | None = None
    ) -> ExternalEventTask | EventWithTimeoutTask:
        """Wait for the next external event called ``name``.

        Events raised before anyone waits are buffered and matched by name, first in first
        out. With ``timeout``, the task fails with ``EventTimeoutError`` if the timer fires
        first; if the event wins, the timer is cancelled.

        ``.cancel()`` the task to stop waiting. A wait that lost a ``task_any`` race (or
        timed out) takes no events either, so the next wait of that name gets the next
        event; yielding the lost wait again makes it wait again. See ``docs/runtime.md``.
        """
        event = self._r.wait_event(name)
        if timeout is None or event.is_complete:
            return event
        timer = self.create_timer(timeout)
        return EventWithTimeoutTask(event, timer)

    def task_all(self, tasks: Sequence[Task]) -> Task:
        """A task that completes with every result, in order; fails on the first failure."""
        return WhenAllTask(list(tasks))

    def task_any(self, tasks: Sequence[Task]) -> Task:
        """A task that completes with the first of ``tasks`` to complete (the task itself).

        Event waits among the losers stop taking events unless used again.
        """
        return WhenAnyTask(list(tasks))

    def continue_as_new(self, input: Any = None) -> Task:
        """Restart this instance with ``input`` and a fresh history when the orchestrator
        returns (or at once, if the returned task is yielded). Unconsumed events carry over."""
        value = payload.normalize(input, f"continue_as_new input of {self._r.name!r}")
        self._r.request_continue_as_new(value)
        task = Task()
        task.complete(None)
        task._result = _CONTINUE_AS_NEW
        return task

    # -- helpers ------------------------------------------------------------------------
    def _check_child_id(self, name: str, instance_id: object) -> None:
        try:
            validate_instance_id(instance_id)
        except InvalidInstanceIdError as err:
            shown = repr(instance_id)
            if len(shown) > 80:
                shown = f"{shown[:60]}...{shown[-12:]}"
            raise InvalidInstanceIdError(
                f"call_sub_orchestrator({name!r}, instance_id={shown}) in orchestration "
                f"{self._r.name!r} (instance {self._r.instance_id!r}): {err}. Pass an id of "
                "1 to 256 printable characters, or none to get '<parent id>:<sequence number>'"
            ) from None

    def _with_retry(self, make: Callable[[], ScheduledTask], retry: RetryPolicy | None) -> Task:
        first = make()
        if retry is None:
            return first
        started = self.current_utc_datetime
        deadline = None if retry.timeout is None else started + retry.timeout
        policy = retry

        def schedule_delay(attempt: int) -> TimerTask | None:
            fire_at = self.current_utc_datetime + policy.delay(attempt)
            if deadline is not None and fire_at > deadline:
                return None
            return self.create_timer(fire_at)

        def should_retry(exc: Any, attempt: int) -> bool:
            if attempt >= policy.max_attempts:
                return False
            again = policy.handle is None or bool(policy.handle(exc))
            if again and not self.is_replaying:
                retrying(self.instance_id, exc, attempt, policy.max_attempts, policy.delay(attempt))
            return again

        return RetryableTask(first, make, schedule_delay, should_retry)

    def _where(self) -> str | None:
        if self.source_hint is not None:
            return self.source_hint()
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        return f"{frame.f_code.co_filename}:{frame.f_lineno}"


_CONTINUE_AS_NEW = object()


def is_continue_as_new_marker(task: Task) -> bool:
    """True for the task returned by :meth:`OrchestrationContext.continue_as_new`."""
    return task._result is _CONTINUE_AS_NEW
