"""In-process notice that an instance has ended, so waiting clients need not poll.

A ``Runtime`` shares one :class:`Completions` between its worker and its client: the worker
reports every step that leaves an instance terminal, and ``Client.wait_for_completion``
wakes at once instead of at its next poll. Waiters still poll the store (with back-off),
because the instance may be run by a worker in another process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class Completions:
    """Events that waiting threads watch, set when the instance they watch ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: dict[str, list[threading.Event]] = {}

    def watch(self, instance_id: str) -> threading.Event:
        """An event set the next time ``instance_id`` ends in this process.

        Watch before reading the instance's status, so an end between the read and the
        wait is not missed; call :meth:`unwatch` when done.
        """
        event = threading.Event()
        with self._lock:
            self._watchers.setdefault(instance_id, []).append(event)
        return event

    def unwatch(self, instance_id: str, event: threading.Event) -> None:
        """Stop watching (idempotent)."""
        with self._lock:
            events = self._watchers.get(instance_id)
            if events is None:
                return
            if event in events:
                events.remove(event)
            if not events:
                del self._watchers[instance_id]

    def ended(self, instance_ids: Iterable[str]) -> None:
        """Wake everyone watching any of ``instance_ids``."""
        with self._lock:
            if not self._watchers:
                return
            woken = [e for iid in instance_ids for e in self._watchers.get(iid, ())]
        for event in woken:
            event.set()
