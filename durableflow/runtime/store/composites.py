"""Store operations written once, for every backend, from the :class:`WorkerStore` primitives.

A backend implements the batch forms (one transaction for many items, which is what the
worker uses); the single-item forms that tests, tools and simple drivers want are these
functions, so a new backend has nothing more to write and cannot get them subtly wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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
