"""The activities leased to one worker, from their lease until their result is recorded.

Three collections, guarded together:

* **running**: every activity this worker holds a lease on (queued, running, or finished
  with its result not yet recorded), keyed by lease, which only the store reads: one
  lease per grant, whatever the store does with its rows; the lease keeper renews them;
* **attempts**: the :class:`~durableflow.runtime.activity_attempts.Attempt` of those
  running on a thread right now, for timeouts, heartbeats and giving up at shutdown;
* **results** of activities that finished while others were in flight: the orchestration
  thread records them all in its next lock transaction.

Leased activities wait for a runner thread in a local queue (``None`` tells a runner to
exit).
"""

from __future__ import annotations

import queue
import threading
from datetime import datetime

from durableflow.core import history as h
from durableflow.runtime.activity_attempts import Attempt
from durableflow.runtime.runner_permits import RunnerPermits
from durableflow.runtime.store.base import ActivityLease, ActivityWorkItem

Result = tuple[ActivityWorkItem, h.HistoryEvent]


class RunningActivities:
    """Leased activities, their attempts, their local queue and their finished results.

    Args:
        permits: counts each leased activity as work in hand until its result is recorded.
    """

    def __init__(self, permits: RunnerPermits) -> None:
        self._permits = permits
        self._running: dict[ActivityLease, ActivityWorkItem] = {}
        self._attempts: dict[ActivityLease, Attempt] = {}
        self._lock = threading.Lock()
        self._results: list[Result] = []
        self._results_lock = threading.Lock()
        self.queue: queue.Queue[ActivityWorkItem | None] = queue.Queue()

    # -- leases -----------------------------------------------------------------------------
    def hold(self, item: ActivityWorkItem) -> None:
        """Count ``item`` as leased to this worker."""
        with self._lock:
            self._running[item.lease] = item

    def drop(self, item: ActivityWorkItem) -> None:
        """Stop counting ``item`` as leased (its result is recorded, or it was given back)."""
        with self._lock:
            self._running.pop(item.lease, None)

    def hand_off(
        self, leased: list[ActivityWorkItem], *, keep_first: bool = False
    ) -> ActivityWorkItem | None:
        """Queue activities a commit leased to this worker (on permits already reserved);
        with ``keep_first``, the first is returned instead, for the caller to run itself."""
        kept: ActivityWorkItem | None = None
        for work in leased:
            self._permits.busy(1)
            with self._lock:
                self._running[work.lease] = work
            if keep_first and kept is None:
                kept = work
            else:
                self.queue.put(work)
        return kept

    def alone(self) -> bool:
        """True when the only activity this worker holds is the one asking (none queued)."""
        with self._lock:
            return len(self._running) == 1 and self.queue.empty()

    def leased(self) -> list[ActivityWorkItem]:
        """Every activity leased to this worker now (to renew their leases)."""
        with self._lock:
            return list(self._running.values())

    # -- attempts ---------------------------------------------------------------------------
    def attempt_began(self, attempt: Attempt) -> None:
        """Track ``attempt``, now running on its thread."""
        with self._lock:
            self._attempts[attempt.item.lease] = attempt

    def attempt_returned(self, attempt: Attempt) -> None:
        """Stop tracking ``attempt``: its activity returned (its result is not yet recorded)."""
        key = attempt.item.lease
        with self._lock:
            if self._attempts.get(key) is attempt:
                del self._attempts[key]

    def attempts(self) -> list[Attempt]:
        """The attempts running now."""
        with self._lock:
            return list(self._attempts.values())

    def deadlines(self) -> list[datetime]:
        """The deadlines of the attempts running now that have one."""
        with self._lock:
            return [a.deadline for a in self._attempts.values() if a.deadline]

    def forget(self, attempt: Attempt) -> None:
        """Drop an attempt that ended without its thread (timed out), and its lease."""
        key = attempt.item.lease
        with self._lock:
            if self._attempts.get(key) is attempt:
                del self._attempts[key]
            self._running.pop(key, None)

    def take_attempts(self) -> list[Attempt]:
        """Every attempt running now, no longer tracked (to give them up at shutdown)."""
        with self._lock:
            attempts = list(self._attempts.values())
            self._attempts.clear()
        return attempts

    def clear(self) -> None:
        """Forget every queued activity and every lease (at shutdown, once given up)."""
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            self._running.clear()

    # -- results ----------------------------------------------------------------------------
    def finish_later(self, item: ActivityWorkItem, result: h.HistoryEvent) -> None:
        """Keep a result for the orchestration thread's next lock transaction (the activity
        stays leased meanwhile, and its lease renewed)."""
        self._permits.busy(1)
        with self._results_lock:
            self._results.append((item, result))

    def has_results(self) -> bool:
        """True when results wait to be recorded."""
        return bool(self._results)

    def take_results(self) -> list[Result]:
        """The results waiting to be recorded, no longer waiting."""
        with self._results_lock:
            taken, self._results = self._results, []
        return taken

    def put_back(self, results: list[Result]) -> None:
        """Return results that could not be recorded, to go first in the next batch."""
        with self._results_lock:
            self._results[:0] = results

    def recorded(self, results: list[Result]) -> None:
        """Forget results now recorded, and their leases."""
        with self._lock:
            for item, _ in results:
                self._running.pop(item.lease, None)
        self._permits.busy(-len(results))
