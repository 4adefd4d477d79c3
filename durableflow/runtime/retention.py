"""Retention: a worker that deletes instances which ended longer ago than it keeps them."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from durableflow.core.status import TERMINAL_STATUSES
from durableflow.runtime.clock import Clock
from durableflow.runtime.store.composites import PURGE_BATCH, PurgingStore, purge_ended

log = logging.getLogger("durableflow.retention")


class Retention:
    """Purges instances that ended more than ``keep`` ago, every ``every``, in batches.

    Each batch is one store transaction of at most ``batch`` instances, so retention never
    holds the write lock for long while the worker it runs in steps instances; between
    batches it checks whether the worker is stopping. The cutoff comes from the injected
    clock, so a fake clock drives it in tests.

    Args:
        store: what to purge from.
        keep: how long an ended instance is kept, counted from its end.
        clock: the time source of the cutoff.
        every: how often to look (default: a tenth of ``keep``, between 1 s and 1 h).
        batch: instances per transaction.
    """

    def __init__(
        self,
        store: PurgingStore,
        keep: timedelta,
        clock: Clock,
        *,
        every: timedelta | None = None,
        batch: int = PURGE_BATCH,
    ) -> None:
        if keep <= timedelta(0):
            raise ValueError(f"retention must keep instances for a positive time, not {keep}")
        if not callable(getattr(store, "purge_instances", None)):
            raise TypeError(
                f"{type(store).__name__} cannot purge instances; retention needs a full store"
            )
        self.store = store
        self.keep = keep
        self.clock = clock
        default = min(max(keep / 10, timedelta(seconds=1)), timedelta(hours=1))
        self.every = every or default
        self.batch = batch

    def purge_once(self, stop: threading.Event | None = None) -> int:
        """Purge everything past the cutoff now, batch by batch; how many went."""
        cutoff = self.clock.now() - self.keep
        total = purge_ended(
            self.store,
            completed_before=cutoff,
            statuses=TERMINAL_STATUSES,
            batch=self.batch,
            stop=stop,
        )
        if total:
            log.info("retention purged %d instances that ended before %s", total, cutoff)
        return total

    def loop(self, stop: threading.Event) -> None:
        """Purge, then wait ``every``, until ``stop`` is set (a worker thread's loop)."""
        while not stop.is_set():
            try:
                self.purge_once(stop)
            except Exception:
                log.exception("retention could not purge; trying again in %s", self.every)
            stop.wait(self.every.total_seconds())
