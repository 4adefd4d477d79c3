"""Runner permits: how many activities a worker holds at once, and whether it is busy.

A worker leases an activity only on a free permit: one per runner thread, plus as many
again for activities waiting in its local queue, so that a step's new activities are
leased in the step's own commit instead of one lock transaction each. The same object
counts work in hand (steps being locked, run or committed, activities leased), which
``Worker.is_idle`` reports.
"""

from __future__ import annotations

import threading


class RunnerPermits:
    """Permits for ``2 * runners`` leased activities, and a count of work in hand.

    Args:
        runners: the worker's activity threads.
        stopping: set when the worker stops; no permit is reserved after that.
    """

    def __init__(self, runners: int, stopping: threading.Event) -> None:
        self._size = 2 * runners
        self._stopping = stopping
        self._free = threading.Semaphore(self._size)
        self._busy = 0
        self._busy_lock = threading.Lock()

    def take(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for one permit; whether it was taken."""
        return self._free.acquire(timeout=timeout)

    def reserve(self, wanted: int) -> int:
        """Take up to ``wanted`` free permits without waiting; how many were taken (none
        once stopping: new activities are then left for any worker)."""
        if self._stopping.is_set():
            return 0
        got = 0
        free = self._free
        while got < wanted and free.acquire(blocking=False):
            got += 1
        return got

    def release(self, count: int = 1) -> None:
        """Give back ``count`` permits."""
        for _ in range(count):
            self._free.release()

    def busy(self, delta: int) -> None:
        """Count ``delta`` more (or, negative, fewer) pieces of work in hand."""
        with self._busy_lock:
            self._busy += delta

    def is_idle(self) -> bool:
        """True when no work is in hand."""
        with self._busy_lock:
            return self._busy == 0

    def reset(self) -> None:
        """Free every permit and count no work (after a stop gave up what it held, so that
        a restart counts from nothing)."""
        with self._busy_lock:
            self._busy = 0
        self._free = threading.Semaphore(self._size)
