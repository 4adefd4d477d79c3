"""Durable tasks: what orchestrator code yields.

A task completes exactly once, with a result or an exception. Composite tasks (``task_all``,
``task_any``, retries, event-with-timeout) complete from their children.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from durableflow.core.errors import (
    EventTimeoutError,
    TaskCancelledError,
    TaskFailedError,
    TimerCancelledError,
)


class Task:
    """A durable operation in flight. Yield it from an orchestrator to wait for it."""

    __slots__ = ("_exception", "_parents", "_result", "is_complete")

    def __init__(self) -> None:
        self.is_complete = False
        self._result: Any = None
        self._exception: BaseException | None = None
        self._parents: list[CompositeTask] = []

    @property
    def is_failed(self) -> bool:
        """True when the task completed with an exception."""
        return self.is_complete and self._exception is not None

    def get_result(self) -> Any:
        """The task's result; raises the task's exception if it failed."""
        if not self.is_complete:
            raise RuntimeError("task is not complete yet; yield it first")
        if self._exception is not None:
            raise self._exception
        return self._result

    def get_exception(self) -> BaseException | None:
        """The exception the task failed with, if any."""
        return self._exception

    def complete(self, result: Any) -> None:
        """Complete the task successfully (runtime use)."""
        if self.is_complete:
            return
        self.is_complete = True
        self._result = result
        self._notify()

    def fail(self, exception: BaseException) -> None:
        """Complete the task with an exception (runtime use)."""
        if self.is_complete:
            return
        self.is_complete = True
        self._exception = exception
        self._notify()

    def _notify(self) -> None:
        for parent in list(self._parents):
            parent.on_child_completed(self)

    def _is_unwanted(self) -> bool:
        """True when every task that waited on this one has settled (completed or been
        abandoned itself), so nothing can ever use its result."""
        parents = self._parents
        return bool(parents) and all(p.is_complete or p._released for p in parents)

    def _abandon(self) -> None:
        """Nothing waits on this task any more (see :mod:`~durableflow.runtime.event_waiters`)."""

    def _reclaim(self) -> None:
        """The code uses this task again: undo :meth:`_abandon`."""


class ScheduledTask(Task):
    """A task backed by one action with a sequence number (activity, timer, sub-orchestration)."""

    __slots__ = ("name", "task_id")

    def __init__(self, task_id: int, name: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.name = name


class TimerTask(ScheduledTask):
    """A durable timer. ``cancel()`` it when it lost a race and is no longer needed."""

    __slots__ = ("_on_cancel", "fire_at")

    def __init__(self, task_id: int, fire_at: datetime, on_cancel: Callable[[int], None]) -> None:
        super().__init__(task_id, "timer")
        self.fire_at = fire_at
        self._on_cancel = on_cancel

    @property
    def is_cancelled(self) -> bool:
        """True once cancelled before it fired."""
        return self.is_complete and isinstance(self._exception, TimerCancelledError)

    def cancel(self) -> None:
        """Stop waiting for the timer; a later firing is ignored.

        A cancelled timer never fires: yielding it raises ``TimerCancelledError``. Cancel
        only a timer that lost a race; a composite still waiting on it never completes.
        """
        if not self.is_complete:
            self._on_cancel(self.task_id)
            self.is_complete = True
            self._exception = TimerCancelledError(
                f"timer {self.task_id} (due {self.fire_at.isoformat()}) was cancelled, so it "
                "will never fire; yield it only if it was not cancelled (check is_cancelled)"
            )


class EventQueue(Protocol):
    """What an :class:`ExternalEventTask` needs from the queues it waits in."""

    def attach(self, task: ExternalEventTask) -> None:
        """Make ``task`` live again (it takes events)."""

    def detach(self, task: ExternalEventTask) -> None:
        """Stop delivering events to ``task``."""


class ExternalEventTask(Task):
    """Waits for the next external event of ``name``.

    Events go to the oldest live waiter of their name. A waiter stops taking events when it
    is cancelled or abandoned (it lost a ``task_any`` race and nothing else waits on it);
    see :mod:`~durableflow.runtime.event_waiters`.

    Attributes:
        name: the event name.
        order: creation order among this execution's waiters.
        live: True while it takes the next event of its name.
    """

    __slots__ = ("_queue", "live", "name", "order")

    def __init__(self, name: str, order: int, queue: EventQueue) -> None:
        super().__init__()
        self.name = name
        self.order = order
        self.live = False
        self._queue = queue

    @property
    def is_cancelled(self) -> bool:
        """True once cancelled before its event arrived."""
        return self.is_complete and isinstance(self._exception, TaskCancelledError)

    def cancel(self) -> None:
        """Stop waiting: the next event of this name goes to another waiter (or is buffered
        for the next ``wait_for_external_event``). Yielding it afterwards raises
        ``TaskCancelledError``. Does nothing once the event has arrived."""
        if not self.is_complete:
            self._queue.detach(self)
            self.is_complete = True
            self._exception = TaskCancelledError(
                f"the wait for external event {self.name!r} was cancelled; "
                "call ctx.wait_for_external_event again to wait for the next one"
            )

    def _abandon(self) -> None:
        self._queue.detach(self)

    def _reclaim(self) -> None:
        self._queue.attach(self)


class CompositeTask(Task):
    """A task that completes from its children.

    When it completes, children nothing else waits on are abandoned (an event waiter that
    lost a ``task_any`` race stops taking events); passing such a child to a new composite,
    or yielding it, makes it wanted again.
    """

    __slots__ = ("_released", "children")

    def __init__(self, children: Sequence[Task]) -> None:
        super().__init__()
        self._released = False
        self.children = list(children)
        for child in self.children:
            if not isinstance(child, Task):
                raise TypeError(
                    f"expected durable tasks, got {type(child).__name__}; pass the tasks that "
                    "ctx.call_activity / create_timer / ... returned"
                )
        # Reclaim before joining: a reclaimed child may complete at once, and must not
        # notify a composite that is still being built.
        for child in self.children:
            if not child.is_complete:
                child._reclaim()
        for child in self.children:
            child._parents.append(self)

    def on_child_completed(self, child: Task) -> None:
        """React to one child's completion."""
        raise NotImplementedError

    def complete(self, result: Any) -> None:
        """Complete, then abandon the children nothing waits on any more."""
        if not self.is_complete:
            super().complete(result)
            self._release_children()

    def fail(self, exception: BaseException) -> None:
        """Fail, then abandon the children nothing waits on any more."""
        if not self.is_complete:
            super().fail(exception)
            self._release_children()

    def _release_children(self) -> None:
        for child in self.children:
            if not child.is_complete and child._is_unwanted():
                child._abandon()

    def _abandon(self) -> None:
        self._released = True
        self._release_children()

    def _reclaim(self) -> None:
        if self._released:
            self._released = False
            for child in self.children:
                if not child.is_complete:
                    child._reclaim()


class CodeWaiting(CompositeTask):
    """Stands for the orchestrator code as a parent of the task it is suspended on, so that
    task counts as wanted while the code waits for it."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__([])

    def on_child_completed(self, child: Task) -> None:
        """Nothing: the replayer resumes the code once the event is applied."""


class WhenAllTask(CompositeTask):
    """Completes with the list of child results; fails on the first child failure."""

    __slots__ = ("_done",)

    def __init__(self, children: Sequence[Task]) -> None:
        super().__init__(children)
        self._done = 0
        for child in self.children:
            if child.is_complete:
                self.on_child_completed(child)
        if not self.children:
            self.complete([])

    def on_child_completed(self, child: Task) -> None:
        """Count completions; fail fast on a failure."""
        if self.is_complete:
            return
        if child._exception is not None:
            self.fail(child._exception)
            return
        self._done += 1
        if self._done == len(self.children):
            self.complete([c._result for c in self.children])


class WhenAnyTask(CompositeTask):
    """Completes with the first child task to complete (success or failure)."""

    __slots__ = ()

    def __init__(self, children: Sequence[Task]) -> None:
        if not children:
            raise ValueError("task_any needs at least one task")
        super().__init__(children)
        for child in self.children:
            if child.is_complete:
                self.on_child_completed(child)
                break

    def on_child_completed(self, child: Task) -> None:
        """The first completion wins."""
        self.complete(child)


class EventWithTimeoutTask(CompositeTask):
    """An external event raced against its own timer; the loser is cancelled."""

    __slots__ = ("_event", "_timer")

    def __init__(self, event: ExternalEventTask, timer: TimerTask) -> None:
        super().__init__([event, timer])
        self._event = event
        self._timer = timer

    @property
    def is_cancelled(self) -> bool:
        """True once cancelled before the event or the timeout."""
        return self.is_complete and isinstance(self._exception, TaskCancelledError)

    def on_child_completed(self, child: Task) -> None:
        """Event first: cancel the timer. Timer first: raise a timeout (the event wait,
        abandoned, stops taking events)."""
        if self.is_complete:
            return
        if child is self._event:
            self._timer.cancel()
            self.complete(self._event._result)
        elif not self._timer.is_cancelled:
            self.fail(EventTimeoutError(self._event.name))

    def cancel(self) -> None:
        """Stop waiting for the event and cancel its timer. Yielding it afterwards raises
        ``TaskCancelledError``. Does nothing once the event or the timeout came."""
        if not self.is_complete:
            self._event.cancel()
            self._timer.cancel()
            self.is_complete = True
            self._exception = TaskCancelledError(
                f"the wait for external event {self._event.name!r} was cancelled; "
                "call ctx.wait_for_external_event again to wait for the next one"
            )


class RetryableTask(CompositeTask):
    """A scheduled task that is retried per a ``RetryPolicy``, waiting with durable timers.

    ``reschedule`` creates a fresh attempt; ``schedule_delay`` creates the backoff timer;
    ``should_retry`` decides from the failure and the attempt number.
    """

    __slots__ = ("_current", "_reschedule", "_schedule_delay", "_should_retry", "attempt")

    def __init__(
        self,
        first: ScheduledTask,
        reschedule: Callable[[], ScheduledTask],
        schedule_delay: Callable[[int], TimerTask | None],
        should_retry: Callable[[TaskFailedError, int], bool],
    ) -> None:
        super().__init__([first])
        self.attempt = 1
        self._current: Task = first
        self._reschedule = reschedule
        self._schedule_delay = schedule_delay
        self._should_retry = should_retry

    def on_child_completed(self, child: Task) -> None:
        """Success completes; failure waits a backoff timer then tries again, if allowed."""
        if self.is_complete or child is not self._current:
            return
        if isinstance(child, TimerTask):
            nxt = self._reschedule()
            self._adopt(nxt)
            return
        exc = child._exception
        if exc is None:
            self.complete(child._result)
            return
        if isinstance(exc, TaskFailedError) and self._should_retry(exc, self.attempt):
            timer = self._schedule_delay(self.attempt)
            if timer is not None:
                self.attempt += 1
                self._adopt(timer)
                return
        self.fail(exc)

    def _adopt(self, task: Task) -> None:
        self._current = task
        self.children.append(task)
        task._parents.append(self)
        if task.is_complete:
            self.on_child_completed(task)
