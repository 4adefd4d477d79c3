"""Store operations written once, for every backend, from the :class:`WorkerStore` primitives.

A backend implements the batch forms (one transaction for many items, which is what the
worker uses); the single-item forms that tests, tools and simple drivers want are these
functions, so a new backend has nothing more to write and cannot get them subtly wrong.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Protocol

from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import semantics
from durableflow.runtime.store.base import (
    OrchestrationCommit,
    OrchestrationWorkItem,
    WorkerStore,
)


def lock_orchestration(
    store: WorkerStore, owner: str, *, now: datetime, lease: timedelta
) -> OrchestrationWorkItem | None:
    """Lease one instance that has messages visible at ``now`` and no live lease.

    The one :meth:`WorkerStore.lock_orchestrations` would lease first (oldest visible
    message, ties by id), or ``None`` when no instance is ready.
    """
    items = store.lock_orchestrations(owner, now=now, lease=lease, limit=1)
    return items[0] if items else None


def commit_orchestration(
    store: WorkerStore, item: OrchestrationWorkItem, commit: OrchestrationCommit, *, now: datetime
) -> None:
    """Apply one step in one transaction and release its lease.

    Raises:
        LeaseLostError: ``item.lease_owner`` no longer owns the instance, or the history
            grew since the item was locked; nothing was written.
    """
    if not store.commit_orchestrations([(item, commit)], now=now)[0]:
        raise semantics.orchestration_lease_lost(item.instance.instance_id, item.lease_owner)


class PurgingStore(Protocol):
    """The one store operation a bulk purge needs (``ClientStore.purge_instances``)."""

    def purge_instances(
        self, *, completed_before: datetime, statuses: frozenset[RuntimeStatus], limit: int
    ) -> int:
        """Delete one batch of ended instances; the number deleted."""
        ...


PURGE_BATCH = 500
"""Instances a bulk purge deletes per transaction unless told otherwise."""


def purge_ended(
    store: PurgingStore,
    *,
    completed_before: datetime,
    statuses: frozenset[RuntimeStatus],
    batch: int,
    stop: threading.Event | None = None,
) -> int:
    """Purge every ended instance matching, one ``purge_instances`` batch per transaction,
    until a batch comes back short (or ``stop`` is set between batches); how many went."""
    total = 0
    while stop is None or not stop.is_set():
        deleted = store.purge_instances(
            completed_before=completed_before, statuses=statuses, limit=batch
        )
        total += deleted
        if deleted < batch:
            break
    return total
