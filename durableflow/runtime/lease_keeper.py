"""The worker's lease keeper: it renews running activities' leases and times attempts out.

Run on its own thread. Every third of a lease it renews the store leases of the activities
the worker holds (:mod:`~durableflow.runtime.running_activities`), so that a long activity
keeps its lease while the worker lives; and it wakes at the next attempt deadline
(:mod:`~durableflow.runtime.activity_attempts`) to fail an attempt that ran past its
timeout, in clock time, so that a fake clock drives timeouts in tests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from durableflow.core import history as h
from durableflow.runtime.activity_attempts import Attempt
from durableflow.runtime.clock import Clock
from durableflow.runtime.executor import failure_of
from durableflow.runtime.runner_permits import RunnerPermits
from durableflow.runtime.running_activities import RunningActivities
from durableflow.runtime.store.base import LeaseLostError, WorkerStore

log = logging.getLogger("durableflow.worker")


class LeaseKeeper:
    """Renews the leases of ``running`` activities and fails their overdue attempts.

    Args:
        store: where leases are renewed and timeouts recorded.
        clock: the worker's time source (attempt deadlines are in its time).
        lease: how long a renewed lease lasts.
        running: the activities whose leases are kept.
        permits: the permit of a timed-out attempt is given back here.
        stopping: set when the worker stops.
        wake: set to look again at once (a new deadline, or stopping).
        replace_runner: called with the thread of a timed-out attempt, which cannot be
            stopped, to put a new runner in its place.
        on_recorded: called after a timeout is recorded (its instance has a step to run).
    """

    def __init__(
        self,
        store: WorkerStore,
        *,
        clock: Clock,
        lease: timedelta,
        running: RunningActivities,
        permits: RunnerPermits,
        stopping: threading.Event,
        wake: threading.Event,
        replace_runner: Callable[[threading.Thread], None],
        on_recorded: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._lease = lease
        self._running = running
        self._permits = permits
        self._stopping = stopping
        self._wake = wake
        self._replace_runner = replace_runner
        self._on_recorded = on_recorded

    def loop(self) -> None:
        """Renew and time out until the worker stops (the keeper thread's body)."""
        period = max(self._lease.total_seconds() / 3, 0.05)
        renew_at = time.monotonic() + period
        while not self._stopping.is_set():
            self._wake.clear()
            wait = renew_at - time.monotonic()
            deadlines = self._running.deadlines()
            if deadlines:
                wait = min(wait, (min(deadlines) - self._clock.now()).total_seconds())
            if wait > 0 and self._wake.wait(wait) and self._stopping.is_set():
                return
            if deadlines:
                self._time_out_overdue()
            if time.monotonic() >= renew_at:
                self._renew_leases()
                renew_at = time.monotonic() + period

    def _renew_leases(self) -> None:
        items = self._running.leased()
        until = self._clock.now() + self._lease
        for item in items:
            try:
                self._store.renew_activity_lease(item, until=until)
            except Exception:
                log.exception(
                    "could not renew the lease of activity %s of %s", item.name, item.instance_id
                )

    def _time_out_overdue(self) -> None:
        """Fail every attempt past its deadline and put a new runner in its thread's place."""
        now = self._clock.now()
        for attempt in self._running.attempts():
            if not attempt.expire(now):
                continue
            item = attempt.item
            error = attempt.timeout_error()
            log.warning("%s", error)
            failed = h.TaskFailed(timestamp=now, task_id=item.task_id, failure=failure_of(error))
            try:
                self._store.complete_activity(item, failed, now=now)
            except LeaseLostError:
                pass  # another worker runs it now, and its outcome counts
            except Exception:
                log.exception(
                    "could not record the timeout of activity %s of %s",
                    item.name,
                    item.instance_id,
                )
            self._forget(attempt)
            self._on_recorded()

    def _forget(self, attempt: Attempt) -> None:
        """Drop an attempt that ended without its thread: free its permit, replace the thread."""
        self._running.forget(attempt)
        self._permits.busy(-1)
        self._permits.release()
        self._replace_runner(attempt.thread)
