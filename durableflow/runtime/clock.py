"""Injectable time: the system clock in production, a fake clock in tests.

Timers, leases and step timestamps all read ``Clock.now()``, so a test can move a fake clock
72 hours ahead and watch a durable timer fire without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware UTC datetimes."""

    def now(self) -> datetime:
        """The current time (timezone-aware, UTC)."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to. Thread-safe.

    Args:
        start: the initial time (default 2030-01-01T00:00Z).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()
        self._listeners: list[threading.Event] = []

    def now(self) -> datetime:
        """The fake current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by ``delta`` and wake anything waiting on the clock."""
        with self._lock:
            self._now += delta
            listeners = list(self._listeners)
        for event in listeners:
            event.set()
        return self._now

    def subscribe(self, event: threading.Event) -> None:
        """Set ``event`` whenever the clock moves (workers use it to re-check timers)."""
        with self._lock:
            self._listeners.append(event)
