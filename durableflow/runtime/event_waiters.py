"""Which waiter gets which external event: the queues behind ``wait_for_external_event``.

An event of a name goes to the oldest *live* waiter of that name (first created, first
served); with no live waiter it is buffered, first in first out, for the next one. A waiter
stops being live when it is cancelled, or when it is abandoned: it lost a ``task_any`` race
(or its ``task_all`` failed, or its timeout fired) and nothing else waits on it. Using an
abandoned waiter again (yielding it, or passing it to ``task_any``/``task_all``) makes it
live again in its original place.

Every change here happens while an event from history is applied or while the orchestrator
code runs, both in history order, so which waiter gets which event is a pure function of
the history: a full replay and a live generator agree.
"""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any

from durableflow.runtime.tasks import ExternalEventTask


class EventWaiters:
    """The live waiters and the buffered events of one execution, by event name."""

    __slots__ = ("_buffer", "_created", "_waiters")

    def __init__(self) -> None:
        self._waiters: dict[str, list[ExternalEventTask]] = {}
        self._buffer: dict[str, deque[Any]] = {}
        self._created = 0

    def wait(self, name: str) -> ExternalEventTask:
        """A new waiter for the next event ``name``; complete at once if one is buffered."""
        self._created += 1
        task = ExternalEventTask(name, self._created, self)
        self.attach(task)
        return task

    def deliver(self, name: str, value: Any) -> bool:
        """Hand ``value`` to the oldest live waiter of ``name``; buffer it if there is none.

        Returns True when a waiter took it.
        """
        waiters = self._waiters.get(name)
        if waiters:
            task = waiters.pop(0)
            task.live = False
            task.complete(value)
            return True
        self._buffer.setdefault(name, deque()).append(value)
        return False

    def attach(self, task: ExternalEventTask) -> None:
        """Make ``task`` live: take a buffered event, or queue it in creation order."""
        if task.live or task.is_complete:
            return
        buffered = self._buffer.get(task.name)
        if buffered:
            task.complete(buffered.popleft())
            return
        task.live = True
        queue = self._waiters.setdefault(task.name, [])
        if not queue or queue[-1].order < task.order:
            queue.append(task)
        else:
            bisect.insort(queue, task, key=lambda t: t.order)

    def detach(self, task: ExternalEventTask) -> None:
        """Stop delivering events to ``task`` (cancelled or abandoned)."""
        if not task.live:
            return
        task.live = False
        queue = self._waiters.get(task.name)
        if queue is not None:
            queue.remove(task)

    def buffered(self) -> list[tuple[str, Any]]:
        """Every buffered (undelivered) event as (name, value), oldest first per name."""
        return [(name, value) for name, values in self._buffer.items() for value in values]
