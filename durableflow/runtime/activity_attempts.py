"""One attempt at an activity on a worker thread: its outcome, deadline and heartbeat.

An attempt ends exactly once, by whichever comes first:

* the activity returns or raises (:meth:`Attempt.finish`): its result is recorded;
* its deadline passes (:meth:`Attempt.expire`): the worker records an
  :class:`~durableflow.core.errors.ActivityTimeoutError` failure for it instead;
* the worker stops before it returns (:meth:`Attempt.abandon`): nothing is recorded and its
  lease is released, so the activity runs again elsewhere.

Python cannot kill a thread, so an expired or abandoned attempt's thread runs on until the
activity's code returns; its result is then dropped (the attempt has already ended), and
:func:`heartbeat` raises in it so that code which heartbeats learns it should stop.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from datetime import datetime, timedelta

from durableflow.core.errors import ActivityTimeoutError
from durableflow.runtime.clock import Clock
from durableflow.runtime.store.base import ActivityWorkItem

_RUNNING, _FINISHED, _EXPIRED, _ABANDONED = range(4)

# A context variable rather than a thread-local: code that hands work to another thread with
# contextvars.copy_context().run(...) can heartbeat from there too.
_current: ContextVar[Attempt | None] = ContextVar("durableflow_activity_attempt", default=None)
# One lock for every attempt's state: each use is a few instructions, and a lock per attempt
# would be one more object to make on every activity's path.
_state_lock = threading.Lock()


class AttemptEnded(Exception):
    """The attempt a runner thread was running ended without it (timed out or given up)."""


class Attempt:
    """One run of ``item`` on this worker, from its start to its one outcome.

    Args:
        item: the leased activity.
        timeout: the longest the attempt may go without a sign of life (from its start or
            its latest heartbeat); ``None``: no limit.
        clock: the worker's clock (deadlines are in its time, so a fake clock drives them).
    """

    __slots__ = ("_state", "clock", "deadline", "item", "thread", "timeout")

    def __init__(self, item: ActivityWorkItem, timeout: timedelta | None, clock: Clock) -> None:
        self.item = item
        self.timeout = timeout
        self.clock = clock
        self.thread = threading.current_thread()
        self.deadline: datetime | None = None if timeout is None else clock.now() + timeout
        self._state = _RUNNING

    def beat(self) -> None:
        """Push the deadline a full timeout ahead.

        Raises:
            ActivityTimeoutError: the attempt has already ended (it timed out, or the worker
                stopped without it): nothing it returns will be recorded.
        """
        with _state_lock:
            if self._state != _RUNNING:
                raise self.timeout_error()
            if self.timeout is not None:
                self.deadline = self.clock.now() + self.timeout

    def finish(self) -> bool:
        """End the attempt with the activity's own outcome; False if it had already ended."""
        return self._end(_FINISHED)

    def expire(self, now: datetime) -> bool:
        """End the attempt as timed out if its deadline has passed; whether it did."""
        with _state_lock:
            if self._state != _RUNNING or self.deadline is None or now < self.deadline:
                return False
            self._state = _EXPIRED
            return True

    def abandon(self) -> bool:
        """End the attempt without an outcome (the worker is stopping); False if it had
        already ended."""
        return self._end(_ABANDONED)

    def _end(self, state: int) -> bool:
        with _state_lock:
            if self._state != _RUNNING:
                return False
            self._state = state
            return True

    def timeout_error(self) -> ActivityTimeoutError:
        """The error recorded for this attempt when it times out."""
        item = self.item
        return ActivityTimeoutError(
            item.name, item.instance_id, item.attempt, self.timeout or timedelta(0)
        )


def heartbeat() -> None:
    """Tell the worker that the activity running on this thread is still making progress.

    An activity with a timeout (``ctx.call_activity(..., timeout=)`` or the worker's
    ``activity_timeout``) fails when it runs that long without a sign of life; each call
    restarts that clock, so a long job that heartbeats every step runs as long as it needs
    while a hung one still fails. It reports on the activity running on the calling thread
    (or in a context copied from it with ``contextvars.copy_context()``). Outside an activity
    run by a worker it does nothing, so activities stay plain functions that tests can call
    directly.

    Raises:
        ActivityTimeoutError: this attempt already timed out or was given up by a stopping
            worker; its result will not be recorded, so the activity should stop.
    """
    attempt = _current.get()
    if attempt is not None:
        attempt.beat()


def enter(attempt: Attempt | None) -> None:
    """Make ``attempt`` the one :func:`heartbeat` reports on for this thread."""
    _current.set(attempt)
