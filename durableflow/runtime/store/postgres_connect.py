"""Opening PostgreSQL stores: URLs, the connection pool, migrations, error translation.

psycopg is imported here, lazily, so the package imports without the ``postgres`` extra;
a missing driver is a :class:`StoreError` that says how to install it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from durableflow.core.errors import (
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store import semantics
from durableflow.runtime.store.postgres_rounds import Rounds, never_prepare

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "durableflow"
"""The schema a URL without ``?schema=`` uses (its own, so it never mixes with app tables)."""

OPTIONS = (
    "schema",
    "pool_min",
    "pool_max",
    "connect_timeout",
    "idle_in_transaction_timeout",
    "history_cache_size",
    "notify",
    "prepare",
)
"""Query parameters (and keyword options) the store reads; any other goes to libpq."""

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_LOCKED_STATES = frozenset({"40P01", "40001", "55P03"})  # deadlock, serialization, lock
_AUTH_STATES = frozenset({"28P01", "28000"})
_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    # A request sent into a cut link fails after 30 s instead of TCP's retransmissions
    # (about 15 minutes); keepalives only probe an idle connection.
    "tcp_user_timeout": "30000",
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where a store's data lives and how to reach it.

    Attributes:
        conninfo: the libpq URL without the store's own parameters.
        schema: the schema holding the tables.
        where: the server, database and schema for messages, password redacted.
        pool_min / pool_max: connections the pool keeps open / may open.
        connect_timeout: seconds to wait for the server when connecting.
        idle_in_transaction_timeout: seconds after which the server ends a session that
            holds a transaction open without using it (a client paused or cut off while
            holding row locks), so its locks do not hold up everyone else.
        history_cache_size: instances whose decoded histories are kept.
        notify: announce new work with NOTIFY and listen for it in ``subscribe``; off
            (``?notify=false``) where LISTEN cannot work, as behind a connection pooler in
            transaction mode: workers then find work by polling alone.
        prepare: send the step statements as prepared statements (``PREPARE`` once per
            connection); off (``?prepare=false``) behind a connection pooler in
            transaction mode, which may run each transaction on another server session.
    """

    conninfo: str = field(repr=False)  # it may hold the password
    schema: str
    where: str
    pool_min: int = 1
    pool_max: int = 16
    connect_timeout: float = 10.0
    idle_in_transaction_timeout: float = 10.0
    history_cache_size: int = 1024
    notify: bool = True
    prepare: bool = True

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel of this schema (one per schema: apps do not mix)."""
        return f"durableflow.{self.schema}"[:63]

    @property
    def lock_key(self) -> int:
        """The advisory lock key that serialises this schema's migrations."""
        digest = hashlib.blake2b(f"durableflow:{self.schema}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user, colon, _ = creds.partition(":")
    return f"{scheme}://{user}:***@{host}" if colon else url


_FLAGS = {"1": True, "true": True, "on": True, "yes": True}
_FLAGS.update({"0": False, "false": False, "off": False, "no": False})


def _flag(name: str, value: object) -> bool:
    """A URL flag (``true``/``false``, ``on``/``off``, ``1``/``0``) or a keyword bool."""
    if isinstance(value, bool):
        return value
    try:
        return _FLAGS[str(value).strip().lower()]
    except KeyError:
        raise ValueError(f"{name}={value!r} is not true or false") from None


def parse_url(url: str, options: dict[str, Any]) -> Target:
    """Split ``postgresql://user@host:port/db?schema=NAME&...`` into a :class:`Target`.

    ``schema`` defaults to ``durableflow``; ``pool_min``, ``pool_max``,
    ``connect_timeout`` and ``idle_in_transaction_timeout`` (seconds),
    ``history_cache_size``, and ``notify`` and ``prepare`` (``true``/``false``) are the
    store's; any other query parameter (``sslmode=``, ``application_name=``...) is passed
    to libpq. Keyword ``options`` override query parameters.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise StoreError(f"not a PostgreSQL URL: {redact(url)!r}")
    query = dict(parse_qsl(parts.query))
    ours = {k: query.pop(k) for k in list(query) if k in OPTIONS}
    ours.update(options)
    # TCP keepalives and a user timeout unless the URL sets them: a cut link is noticed in
    # about 25-30 s instead of the kernel's two hours.
    for key, value in _KEEPALIVES.items():
        query.setdefault(key, value)
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise StoreError(
            f"unknown PostgreSQL store option(s) {', '.join(unknown)}; accepted: "
            f"{', '.join(OPTIONS)}"
        )
    schema = str(ours.get("schema", DEFAULT_SCHEMA))
    if not _SCHEMA_NAME.fullmatch(schema):
        raise StoreError(
            f"bad schema name {schema!r} in {redact(url)!r}: use lower-case letters, digits "
            "and underscores, starting with a letter or underscore (at most 63)"
        )
    conninfo = urlunsplit(parts._replace(query=urlencode(query)))
    where = f"{redact(urlunsplit(parts._replace(query='')))} (schema {schema})"
    try:
        target = Target(
            conninfo=conninfo,
            schema=schema,
            where=where,
            pool_min=int(ours.get("pool_min", 1)),
            pool_max=int(ours.get("pool_max", 16)),
            connect_timeout=float(ours.get("connect_timeout", 10.0)),
            idle_in_transaction_timeout=float(ours.get("idle_in_transaction_timeout", 10.0)),
            history_cache_size=int(ours.get("history_cache_size", 1024)),
            notify=_flag("notify", ours.get("notify", True)),
            prepare=_flag("prepare", ours.get("prepare", True)),
        )
    except (TypeError, ValueError) as exc:
        raise StoreError(f"bad PostgreSQL store option in {redact(url)!r}: {exc}") from None
    if not 1 <= target.pool_min <= target.pool_max:
        raise StoreError(
            f"pool sizes must satisfy 1 <= pool_min <= pool_max, got {target.pool_min} and "
            f"{target.pool_max}"
        )
    return target


def driver() -> ModuleType:
    """The psycopg module, or a StoreError saying how to get it."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401  (checked here: the store needs both)
    except ImportError as exc:
        raise StoreError(
            f"the PostgreSQL store needs psycopg 3 and psycopg_pool ({exc}); install them "
            "with: pip install 'durableflow[postgres]'"
        ) from None
    return psycopg


def translate(exc: Exception, where: str) -> StoreError:
    """Turn a psycopg exception into the store's error types, saying what and where."""
    if isinstance(exc, StoreError):
        return exc
    text = " ".join(str(exc).split())
    state = getattr(exc, "sqlstate", None)
    if state in _LOCKED_STATES:
        return StoreLockedError(
            f"PostgreSQL at {where} gave up a transaction over locks ({text}); nothing it "
            "wrote was kept, and it can be retried"
        )
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return StoreNotFoundError(
            f"no such PostgreSQL database at {where} ({text}). Create it first (createdb) "
            "or fix the database name in the URL"
        )
    if (
        state in _AUTH_STATES
        or "authentication failed" in text
        or "pg_hba.conf" in text
        or ("role" in text and "does not exist" in text)
    ):
        return StoreUnavailableError(
            f"the PostgreSQL server at {where} refused the credentials ({text}). Check the "
            "user and password in the URL (or PGPASSWORD, ~/.pgpass)"
        )
    name = type(exc).__name__
    if name == "PoolTimeout":
        return StoreUnavailableError(
            f"no connection to the PostgreSQL server at {where} became free in time ({text}):"
            " either every connection of the pool is busy (raise pool_max in the URL, or "
            "lower the worker's concurrency) or the server stopped answering"
        )
    if state == "25P03":
        return StoreUnavailableError(
            f"the PostgreSQL server at {where} ended a session whose transaction stayed idle "
            "longer than idle_in_transaction_timeout (the process was paused or its link cut)"
            f"; nothing of that transaction was written ({text})"
        )
    if name in ("OperationalError", "PoolClosed") or (state or "").startswith(("08", "57P")):
        return StoreUnavailableError(
            f"cannot use the PostgreSQL server at {where} ({text}). Check that it is running "
            "and that the host and port in the URL are right"
        )
    return StoreError(f"PostgreSQL error on {where}: {text}")


def connection_kwargs(target: Target) -> dict[str, Any]:
    """Settings of every connection: autocommit (transactions are explicit), the schema
    first on the search path, and psycopg's automatic statement preparation off."""
    return {
        "autocommit": True,
        # psycopg sends DEALLOCATE ALL after any ROLLBACK once it has prepared statements
        # of its own, which would drop those postgres_rounds prepares too; the hot
        # statements are prepared there instead.
        "prepare_threshold": None,
        "connect_timeout": max(1, round(target.connect_timeout)),
        "options": (
            # standard_conforming_strings: postgres_literals relies on it.
            f"-c search_path={target.schema} -c standard_conforming_strings=on "
            "-c idle_in_transaction_session_timeout="
            f"{max(1, round(target.idle_in_transaction_timeout * 1000))}"
        ),
    }


def connect(target: Target, **settings: Any) -> Any:
    """One connection of its own (migrations, the notification listener); ``settings``
    are added to the connection's libpq parameters."""
    psycopg = driver()
    try:
        return psycopg.connect(target.conninfo, **{**connection_kwargs(target), **settings})
    except psycopg.Error as exc:
        raise translate(exc, target.where) from None


def migrate(conn: Any, target: Target, *, create: bool = True) -> list[str]:
    """Create the schema if missing and apply pending migrations; the names applied.

    Serialised across processes by a transaction-scoped advisory lock, so workers that
    start together apply each migration once.

    Raises:
        StoreNotFoundError: ``create`` is false and the schema holds no store.
        StoreError: the schema was migrated by a newer durableflow.
    """
    psycopg = driver()
    from psycopg import sql as q

    schema = q.Identifier(target.schema)
    done: list[str] = []
    known = {name for name, _ in sql.MIGRATIONS}
    try:
        # The usual case, every migration applied already, costs one read and no lock.
        with conn.transaction():
            table = f"{target.schema}.migrations"
            exists = conn.execute(sql.MIGRATIONS_TABLE_EXISTS, (table,)).fetchone()[0]
            if exists and {r[0] for r in conn.execute(sql.APPLIED_MIGRATIONS)} == known:
                return done
        if not exists and not create:
            raise StoreNotFoundError(
                f"no durableflow store at {target.where}: the schema has no migrations "
                "table. Check ?schema= in the URL for a typo; a store is created by the "
                "first worker, Runtime or start that uses it, or by durable db upgrade"
            )
        with conn.transaction():
            conn.execute(sql.MIGRATION_LOCK, (target.lock_key,))
            conn.execute(q.SQL(sql.CREATE_SCHEMA).format(schema=schema))
            conn.execute(q.SQL(sql.SET_SEARCH_PATH).format(schema=schema))
            conn.execute(sql.CREATE_MIGRATIONS)
            applied = {r[0] for r in conn.execute(sql.APPLIED_MIGRATIONS)}
            unknown = sorted(applied - known)
            if unknown:
                raise StoreError(
                    f"{target.where} was migrated by a newer durableflow (unknown "
                    f"migrations: {', '.join(unknown)}); upgrade durableflow to open it"
                )
            for name, statements in sql.MIGRATIONS:
                if name in applied:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(sql.RECORD_MIGRATION, (name,))
                done.append(name)
    except psycopg.Error as exc:
        raise translate(exc, target.where) from None
    for name in done:
        log.info("%s: applied migration %s", target.where, name)
    return done


class Pool:
    """The store's connection pool and its transactions.

    A store used after ``fork()`` abandons the parent's pool (its connections and threads
    belong to the parent) and opens its own.
    """

    def __init__(self, target: Target, url: str) -> None:
        self.target = target
        self.url = url
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._pool = self._open()

    def _open(self) -> Any:
        driver()
        from psycopg_pool import ConnectionPool

        return ConnectionPool(
            self.target.conninfo,
            kwargs=connection_kwargs(self.target),
            min_size=self.target.pool_min,
            max_size=self.target.pool_max,
            timeout=max(self.target.connect_timeout, 1.0),
            open=True,
            name=f"durableflow-{self.target.schema}",
            configure=None if self.target.prepare else never_prepare,
        )

    def _current(self) -> Any:
        if self._closed:
            raise semantics.closed(self.url)
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pid, self._pool = os.getpid(), self._open()
        return self._pool

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A connection for reads: each statement sees the latest committed state."""
        psycopg = driver()
        try:
            with self._current().connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise translate(exc, self.target.where) from exc
        except Exception as exc:
            if type(exc).__module__.startswith("psycopg_pool"):
                raise translate(exc, self.target.where) from exc
            raise

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[Any]:
        """One transaction, rolled back on any exception; ``durable=False`` commits without
        waiting for the WAL flush (for writes no client can observe)."""
        # Not pipeline mode, though it saves round trips: a pipelined session the client
        # stopped feeding stays "active" on the server, so idle_in_transaction_session_timeout
        # would never free the row locks of a paused or cut-off worker.
        with self.read() as conn, conn.transaction():
            if not durable:
                conn.execute(sql.NOT_DURABLE)
            yield conn

    @contextmanager
    def rounds(self, durable: bool = True) -> Iterator[Rounds]:
        """One transaction sent as a few round trips of several statements each
        (:class:`~postgres_rounds.Rounds`), committed by the caller's last
        :meth:`Rounds.commit` and rolled back on any exception."""
        with self.read() as conn:
            tx = Rounds(conn, durable=durable)
            try:
                yield tx
            except BaseException:
                tx.abort()
                raise
            tx.abort()  # a caller that returned without committing wrote nothing

    def close(self) -> None:
        """Close the pool's connections. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._pid == os.getpid():
            self._pool.close()
