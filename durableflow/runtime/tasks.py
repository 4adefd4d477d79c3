"""Durable tasks: what orchestrator code yields.

A task completes exactly once, with a result or an exception. Composite tasks (``task_all``,
``task_any``, retries, event-with-timeout) complete from their children.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from durableflow.core.errors import EventTimeoutError, TaskFailedError


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
        return self.is_complete and self._result is _CANCELLED

    def cancel(self) -> None:
        """Stop waiting for the timer; a later firing is ignored."""
        if not self.is_complete:
            self._on_cancel(self.task_id)
            self.is_complete = True
            self._result = _CANCELLED


_CANCELLED = object()


class ExternalEventTask(Task):
    """Waits for the next external event of ``name`` (FIFO among waiters)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class CompositeTask(Task):
    """A task that completes from its children."""

    __slots__ = ("children",)

    def __init__(self, children: Sequence[Task]) -> None:
        super().__init__()
        self.children = list(children)
        for child in self.children:
            if not isinstance(child, Task):
                raise TypeError(
                    f"expected durable tasks, got {type(child).__name__}; pass the tasks that "
                    "ctx.call_activity / create_timer / ... returned"
                )
            child._parents.append(self)

    def on_child_completed(self, child: Task) -> None:
        """React to one child's completion."""
        raise NotImplementedError


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

    __slots__ = ("_event", "_on_timeout", "_timer")

    def __init__(
        self,
        event: ExternalEventTask,
        timer: TimerTask,
        on_timeout: Callable[[ExternalEventTask], None],
    ) -> None:
        super().__init__([event, timer])
        self._event = event
        self._timer = timer
        self._on_timeout = on_timeout

    def on_child_completed(self, child: Task) -> None:
        """Event first: cancel the timer. Timer first: stop waiting and raise a timeout."""
        if self.is_complete:
            return
        if child is self._event:
            self._timer.cancel()
            self.complete(self._event._result)
        elif not self._timer.is_cancelled:
            self._on_timeout(self._event)
            self.fail(EventTimeoutError(self._event.name))


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
