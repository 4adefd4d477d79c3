"""A worker's presence in its store: registered at start, a heartbeat, gone at stop."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from durableflow.runtime.clock import Clock
from durableflow.runtime.store.base import WorkerStore

log = logging.getLogger("durableflow.worker")


class Presence:
    """Keeps worker ``owner`` listed as alive in ``store`` (``durable workers``).

    A heartbeat every third of ``lease`` vouches for the worker for one ``lease``, so a
    worker is shown dead once its leases could have expired, and its row goes when it
    stops. Heartbeat times come from the injected clock.
    """

    def __init__(self, store: WorkerStore, owner: str, lease: timedelta, clock: Clock) -> None:
        self.store = store
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()

    def beat(self) -> None:
        """Record one heartbeat now (the first one registers the worker)."""
        now = self.clock.now()
        self.store.heartbeat_worker(
            self.owner, host=self.host, pid=self.pid, now=now, expires=now + self.lease
        )

    def arrive(self) -> None:
        """The first heartbeat, at start; a failure is logged and the loop tries again."""
        try:
            self.beat()
        except Exception:
            log.exception("could not register %s; its heartbeat will try again", self.owner)

    def loop(self, stop: threading.Event) -> None:
        """Beat every third of the lease until ``stop`` is set (a worker thread's loop)."""
        every = max(self.lease.total_seconds() / 3, 0.05)
        while not stop.wait(every):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat of %s failed; trying again in %gs", self.owner, every)

    def leave(self) -> None:
        """Unregister the worker (it stopped); a failure only leaves it to expire."""
        try:
            self.store.unregister_worker(self.owner)
        except Exception:
            log.exception("could not unregister %s; it will show as dead", self.owner)
