"""Durable storage behind one :class:`Store` protocol, chosen by URL.

``memory://`` (private) and ``memory://NAME`` (shared in the process) for tests and fuzzing;
``sqlite:///path.db`` for one machine; ``postgresql://user@host:port/db?schema=NAME`` for
many machines sharing one database (needs the ``postgres`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from durableflow.core.errors import StoreError
from durableflow.runtime.store.base import (
    ActivityWorkItem,
    InstanceQuery,
    InstanceRecord,
    LeaseLostError,
    Message,
    NewInstance,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
    PlannedStep,
    Store,
    WorkerRecord,
)
from durableflow.runtime.store.memory import MemoryStore
from durableflow.runtime.store.postgres import PostgresStore
from durableflow.runtime.store.sqlite import SqliteStore

__all__ = [
    "ActivityWorkItem",
    "InstanceQuery",
    "InstanceRecord",
    "LeaseLostError",
    "MemoryStore",
    "Message",
    "NewInstance",
    "OrchestrationCommit",
    "OrchestrationWorkItem",
    "OutgoingMessage",
    "PlannedStep",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "Upgrade",
    "WorkerRecord",
    "open_store",
    "upgrade_store",
]


def open_store(url: str, *, create: bool = True, **options: Any) -> Store:
    """Open the store that ``url`` names.

    Args:
        url: ``memory://``, ``memory://NAME``, ``sqlite:///relative/path.db`` or
            ``sqlite:////absolute/path.db`` (SQLite options may also be given as query
            parameters, e.g. ``?busy_timeout=2&synchronous=NORMAL``), or
            ``postgresql://user:password@host:port/database?schema=NAME`` (also
            ``postgres://``; the schema defaults to ``durableflow`` and is created and
            migrated on first use).
        create: create a SQLite file (or a PostgreSQL schema's store) that does not exist
            yet. Pass ``False`` where only an existing store makes sense (reading or
            managing instances), so that a mistyped path or schema fails instead of
            opening a new, empty store. Memory stores are always opened.
        **options: backend options, e.g. ``busy_timeout`` (seconds) and ``synchronous``
            for SQLite; ``schema``, ``pool_min``, ``pool_max``, ``connect_timeout`` and
            ``history_cache_size`` for PostgreSQL.

    Raises:
        StoreNotFoundError: ``create`` is false and the SQLite file does not exist (or
            the PostgreSQL schema holds no store), or the PostgreSQL database does not.
        StoreUnavailableError: a PostgreSQL server cannot be reached or refuses the
            credentials.
        StoreError: unknown scheme, a backend that is not available (psycopg missing), or
            a store that cannot be opened (see the backend for details).
    """
    if not isinstance(url, str):
        raise StoreError(f"store URL must be a str, got {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if sep and scheme == "memory":
        if options:
            raise StoreError(f"memory:// stores take no options, got {sorted(options)}")
        return MemoryStore(rest or None)
    if sep and scheme == "sqlite":
        return SqliteStore.from_url(url, create=create, **options)
    if sep and scheme in ("postgresql", "postgres"):
        # psycopg is imported only now: the package works without the postgres extra.
        return PostgresStore.from_url(url, create=create, **options)
    hint = f"; did you mean sqlite:///{url}?" if not sep and url.endswith(".db") else ""
    raise StoreError(
        f"unknown store URL {url!r}: expected sqlite:///path.db, postgresql://..., "
        f"memory:// or memory://NAME{hint}"
    )


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What :func:`upgrade_store` did.

    Attributes:
        url: the store, password redacted.
        applied: migrations applied now, in order (empty: it was up to date).
        latest: the newest migration the store is at now ("" for memory stores).
    """

    url: str
    applied: list[str]
    latest: str


def upgrade_store(url: str) -> Upgrade:
    """Create the store at ``url`` if it does not exist and apply pending migrations.

    What the first use of a store does anyway, as a deliberate step (``durable db upgrade``)
    so that a deployment can migrate before starting its workers. Safe to run while workers
    use the store, and from several places at once.

    Raises:
        StoreError: as for :func:`open_store`.
    """
    from durableflow.runtime.store import postgres_sql, sqlite_sql
    from durableflow.runtime.store.postgres_connect import redact

    store = open_store(url)
    try:
        applied: list[str] = list(getattr(store, "applied_migrations", []))
    finally:
        store.close()
    if isinstance(store, PostgresStore):
        latest = postgres_sql.MIGRATIONS[-1][0]
    elif isinstance(store, SqliteStore):
        latest = sqlite_sql.MIGRATIONS[-1][0]
    else:
        latest = ""
    return Upgrade(redact(url), applied, latest)
