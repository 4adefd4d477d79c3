"""Opening SQLite files for the store: validation, PRAGMAs, migrations, error translation.

Opening never modifies a file that is not already a durableflow database (or empty): the
header is checked from raw bytes and the schema is inspected over a read-only connection
before the first read-write connection is made.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from durableflow.core.errors import StoreError, StoreLockedError, StoreNotFoundError
from durableflow.runtime.store import sqlite_sql as sql

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
SYNCHRONOUS_LEVELS = ("FULL", "EXTRA", "NORMAL", "OFF")
_LOCKED_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_NOT_A_DB_CODES = frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT})


def not_a_database(path: str, detail: str) -> StoreError:
    """The error for a file that is not (or no longer) a usable durableflow database."""
    return StoreError(
        f"{path} is not a durableflow/SQLite database ({detail}); it was left unchanged. "
        "Point the store at a new file or at a database durableflow created"
    )


def translate(exc: sqlite3.Error, path: str, busy_timeout: float) -> StoreError:
    """Turn a sqlite3 exception into the store's error types, with a message that helps."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        code &= 0xFF  # extended result codes carry the primary code in the low byte
    text = str(exc)
    if code in _LOCKED_CODES or "locked" in text or "busy" in text:
        return StoreLockedError(
            f"database is locked by another writer for longer than the busy timeout of "
            f"{busy_timeout:g}s: {path} ({text}). Another process or connection holds a "
            "write transaction open; let it finish, or open the store with a longer "
            "busy_timeout"
        )
    if code in _NOT_A_DB_CODES or "not a database" in text or "malformed" in text:
        return StoreError(
            f"{path} is not a durableflow/SQLite database or is damaged ({text}); the "
            "transaction was rolled back. Restore the file from a backup or point the store "
            "at a new file"
        )
    return StoreError(f"SQLite error on {path}: {text}")


def check_file(path: str, *, create: bool = True, url: str | None = None) -> None:
    """Refuse, without touching it, a path that cannot hold a durableflow database.

    With ``create`` false, a path with no file is refused too (``url`` names it in the
    message).
    """
    if path in ("", ":memory:") or path.startswith("file:"):
        raise StoreError(
            f"sqlite store path {path!r} is not a file path; each worker thread needs the "
            "same database, so use a file (sqlite:///path.db) or memory:// for tests"
        )
    if os.path.isdir(path):
        raise StoreError(f"{path} is a directory; the sqlite store needs a file path")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise StoreError(
            f"cannot create {path}: directory {parent} does not exist; create it first"
        )
    if not create and not os.path.exists(path):
        raise _missing(path, url or f"sqlite:///{path}")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    try:
        with open(path, "rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None
    if header != SQLITE_HEADER:
        raise not_a_database(path, "it does not start with the SQLite file header")
    _check_schema_read_only(path)


def _missing(path: str, url: str) -> StoreNotFoundError:
    where = os.path.abspath(path)
    relative = (
        ""
        if os.path.isabs(path)
        else (f"; {url} is relative to the working directory {os.getcwd()}")
    )
    return StoreNotFoundError(
        f"no store at {where}: the file does not exist{relative}. Check the store URL for "
        "a typo (sqlite:////abs/path.db for an absolute path); a store is created by the "
        "first worker, Runtime or start that uses it"
    )


def _check_schema_read_only(path: str) -> None:
    uri = "file:" + _uri_path(path) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        app_id = conn.execute(sql.APPLICATION_ID_QUERY).fetchone()[0]
        tables = [r[0] for r in conn.execute(sql.TABLE_NAMES)]
    except sqlite3.DatabaseError as exc:
        raise not_a_database(path, str(exc)) from None
    finally:
        conn.close()
    if app_id != sql.APPLICATION_ID and tables:
        raise not_a_database(
            path,
            f"it is an SQLite database of another application: tables {', '.join(tables)} "
            f"and application_id {app_id}",
        )


def _uri_path(path: str) -> str:
    return quote(os.path.abspath(path))


def connect(path: str, busy_timeout: float, synchronous: str) -> sqlite3.Connection:
    """A read-write connection with the per-connection PRAGMAs set."""
    try:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves; sqlite3's implicit
        # BEGIN (DEFERRED) would upgrade to a write lock mid-transaction and fail with
        # SQLITE_BUSY without waiting. check_same_thread=False only so close() can run
        # from any thread; each connection is used by one thread at a time.
        conn = sqlite3.connect(
            path,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
        conn.execute(sql.SET_BUSY_TIMEOUT.format(ms=int(busy_timeout * 1000)))
        conn.execute(sql.SET_SYNCHRONOUS.format(level=synchronous))
    except sqlite3.Error as exc:
        raise translate(exc, path, busy_timeout) from None
    return conn


def initialize(conn: sqlite3.Connection, path: str, busy_timeout: float) -> list[str]:
    """Switch the file to WAL and apply pending migrations (idempotent); the names of the
    migrations applied now."""
    try:
        mode = conn.execute(sql.SET_WAL).fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("%s: SQLite refused WAL mode (got %s); using it anyway", path, mode)
        conn.execute(sql.SET_JOURNAL_SIZE_LIMIT)
        with write_transaction(conn, path, busy_timeout):
            return _migrate(conn, path)
    except sqlite3.Error as exc:
        raise translate(exc, path, busy_timeout) from None


def _migrate(conn: sqlite3.Connection, path: str) -> list[str]:
    conn.execute(sql.CREATE_MIGRATIONS)
    applied = {r[0] for r in conn.execute(sql.APPLIED_MIGRATIONS)}
    known = {name for name, _ in sql.MIGRATIONS}
    unknown = sorted(applied - known)
    if unknown:
        raise StoreError(
            f"{path} was migrated by a newer durableflow (unknown migrations: "
            f"{', '.join(unknown)}); upgrade durableflow to open it"
        )
    done = []
    for name, statements in sql.MIGRATIONS:
        if name in applied:
            continue
        for statement in statements:
            conn.execute(statement)
        conn.execute(sql.RECORD_MIGRATION, (name, datetime.now(UTC).isoformat()))
        log.info("%s: applied migration %s", path, name)
        done.append(name)
    return done


@contextmanager
def write_transaction(
    conn: sqlite3.Connection, path: str, busy_timeout: float
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""
    try:
        conn.execute(sql.BEGIN_WRITE)
    except sqlite3.Error as exc:
        raise translate(exc, path, busy_timeout) from None
    try:
        yield conn
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute(sql.ROLLBACK)
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, path, busy_timeout) from exc
        raise
    try:
        conn.execute(sql.COMMIT)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute(sql.ROLLBACK)
        raise translate(exc, path, busy_timeout) from None


OPTIONS = ("busy_timeout", "synchronous", "history_cache_size")


def parse_url(url: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split ``sqlite:///path?query`` into the path and the store's keyword options.

    ``sqlite:///rel.db`` is relative to the working directory, ``sqlite:////abs.db``
    absolute; the path is percent-decoded. Keyword ``options`` override query parameters.
    """
    rest = url.split("://", 1)[1]
    location, _, query = rest.partition("?")
    if not location.startswith("/"):
        raise StoreError(
            f"bad SQLite URL {url!r}: expected sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db (three slashes, then the path)"
        )
    merged: dict[str, Any] = dict(parse_qsl(query))
    merged.update(options)
    unknown = sorted(set(merged) - set(OPTIONS))
    if unknown:
        raise StoreError(
            f"unknown SQLite store option(s) {', '.join(unknown)} in {url!r}; accepted: "
            f"{', '.join(OPTIONS)}"
        )
    try:
        kwargs: dict[str, Any] = {
            "busy_timeout": float(merged.get("busy_timeout", 5.0)),
            "synchronous": str(merged.get("synchronous", "FULL")),
            "history_cache_size": int(merged.get("history_cache_size", 1024)),
        }
    except (TypeError, ValueError) as exc:
        raise StoreError(f"bad SQLite store option in {url!r}: {exc}") from None
    return unquote(location[1:]), kwargs


_QUEUES: dict[tuple[int, str], threading.Lock] = {}
_QUEUES_LOCK = threading.Lock()


def writer_queue(path: str) -> threading.Lock:
    """The lock this process's writers to ``path`` queue on (shared by all its stores).

    SQLite admits one writer at a time and makes the others poll with growing sleeps, which
    starves threads under load; queueing a process's writers on one lock first leaves the
    busy handler to arbitrate only between processes.
    """
    key = (os.getpid(), os.path.realpath(path))
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(key, threading.Lock())
