"""The worker's lease keeper: it renews running activities' leases and times attempts out.

A mixin of :class:`~durableflow.runtime.worker.Worker`, run on its own thread. Every third
of a lease it renews the store leases of the activities this worker runs, so that a long
activity keeps its lease while the worker lives; and it wakes at the next attempt deadline
(:mod:`~durableflow.runtime.activity_attempts`) to fail an attempt that ran past its
timeout, in clock time, so that a fake clock drives timeouts in tests.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from durableflow.core import history as h
from durableflow.runtime.activity_attempts import Attempt
from durableflow.runtime.clock import Clock
from durableflow.runtime.executor import failure_of
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    LeaseLostError,
    WorkerStore,
)

log = logging.getLogger("durableflow.worker")


class LeaseKeeper:
    """Lease renewals and attempt timeouts, for :class:`~durableflow.runtime.worker.Worker`."""

    if TYPE_CHECKING:  # provided by Worker
        store: WorkerStore
        clock: Clock
        lease: timedelta
        _stop: threading.Event
        _orch_wake: threading.Event
        _keeper_wake: threading.Event
        _running: dict[ActivityLease, ActivityWorkItem]
        _running_lock: threading.Lock
        _attempts: dict[ActivityLease, Attempt]
        _free_slots: threading.Semaphore

        def _enter_busy(self, delta: int) -> None: ...

        def _spawn_runner(self, replacing: threading.Thread) -> None: ...

    def _lease_loop(self) -> None:
        period = max(self.lease.total_seconds() / 3, 0.05)
        renew_at = time.monotonic() + period
        while not self._stop.is_set():
            self._keeper_wake.clear()
            wait = renew_at - time.monotonic()
            with self._running_lock:
                deadlines = [a.deadline for a in self._attempts.values() if a.deadline]
            if deadlines:
                wait = min(wait, (min(deadlines) - self.clock.now()).total_seconds())
            if wait > 0 and self._keeper_wake.wait(wait) and self._stop.is_set():
                return
            if deadlines:
                self._time_out_overdue()
            if time.monotonic() >= renew_at:
                self._renew_leases()
                renew_at = time.monotonic() + period

    def _renew_leases(self) -> None:
        with self._running_lock:
            items = list(self._running.values())
        until = self.clock.now() + self.lease
        for item in items:
            try:
                self.store.renew_activity_lease(item, until=until)
            except Exception:
                log.exception(
                    "could not renew the lease of activity %s of %s", item.name, item.instance_id
                )

    def _time_out_overdue(self) -> None:
        """Fail every attempt past its deadline and put a new runner in its thread's place."""
        now = self.clock.now()
        with self._running_lock:
            attempts = list(self._attempts.values())
        for attempt in attempts:
            if not attempt.expire(now):
                continue
            item = attempt.item
            error = attempt.timeout_error()
            log.warning("%s", error)
            failed = h.TaskFailed(timestamp=now, task_id=item.task_id, failure=failure_of(error))
            try:
                self.store.complete_activity(item, failed, now=now)
            except LeaseLostError:
                pass  # another worker runs it now, and its outcome counts
            except Exception:
                log.exception(
                    "could not record the timeout of activity %s of %s",
                    item.name,
                    item.instance_id,
                )
            self._forget(attempt)
            self._orch_wake.set()

    def _forget(self, attempt: Attempt) -> None:
        """Drop an attempt that ended without its thread: free its slot, replace the thread."""
        key = attempt.item.lease
        with self._running_lock:
            if self._attempts.get(key) is attempt:
                del self._attempts[key]
            self._running.pop(key, None)
        self._enter_busy(-1)
        self._free_slots.release()
        self._spawn_runner(attempt.thread)
