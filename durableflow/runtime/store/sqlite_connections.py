"""Per-thread SQLite connections and the store's read and write transactions.

Each thread gets its own connection (the worker calls the store from several threads);
SQLite serializes the writers, and WAL lets readers run alongside them. A store used after
``fork()`` abandons the parent's connections and opens its own.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from durableflow.runtime.store import semantics
from durableflow.runtime.store import sqlite_connect as db
from durableflow.runtime.store import sqlite_sql as sql


class Connections:
    """The connections of one store to the database file at ``path``.

    Args:
        path: the database file.
        busy_timeout: seconds a writer waits for another (in this process and in others).
        synchronous: the level of durable transactions; lease-only ones use ``NORMAL``.
        url: the store's URL, for messages.
    """

    def __init__(self, path: str, busy_timeout: float, synchronous: str, url: str) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self.url = url
        self._lease_synchronous = "NORMAL" if synchronous in ("FULL", "EXTRA") else synchronous
        self._local = threading.local()
        self._conns: dict[threading.Thread, sqlite3.Connection] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._write_lock = db.writer_queue(path)

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not self._closed and self._pid == os.getpid():
            return conn
        with self._lock:
            if self._closed:
                raise semantics.closed(self.url)
            if self._pid != os.getpid():
                # Forked: SQLite connections must not cross fork(), and closing the parent's
                # could drop its locks; abandon them and start afresh in this process.
                self._pid, self._conns = os.getpid(), {}
                self._local = threading.local()
                self._write_lock = db.writer_queue(self.path)
            for thread in [t for t in self._conns if not t.is_alive()]:
                self._conns.pop(thread).close()
            conn = db.connect(self.path, self.busy_timeout, self.synchronous)
            self._conns[threading.current_thread()] = conn
        self._local.conn = conn
        self._local.synchronous = self.synchronous
        return conn

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; fsynced at commit only if ``durable``."""
        # Queue on this process's writer lock first (see sqlite_connect.writer_queue).
        conn = self.conn()
        queue = self._write_lock
        if not queue.acquire(timeout=self.busy_timeout):
            raise db.translate(
                sqlite3.OperationalError("database is locked"), self.path, self.busy_timeout
            )
        try:
            level = self.synchronous if durable else self._lease_synchronous
            if self._local.synchronous != level:
                # Why: only what a client can observe must be fsynced before we return.
                # Leases and queued activity results are not observable: a power cut that
                # loses them only means an activity runs again (activities are at least
                # once), and the next durable commit fsyncs the WAL up to itself anyway.
                try:
                    conn.execute(sql.SET_SYNCHRONOUS.format(level=level))
                except sqlite3.Error as exc:
                    raise db.translate(exc, self.path, self.busy_timeout) from None
                self._local.synchronous = level
            with db.write_transaction(conn, self.path, self.busy_timeout):
                yield conn
        finally:
            queue.release()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection for reads (WAL: never waits for writers)."""
        try:
            yield self.conn()
        except sqlite3.Error as exc:
            raise db.translate(exc, self.path, self.busy_timeout) from None

    def close(self) -> None:
        """Close every thread's connection. Idempotent."""
        with self._lock:
            self._closed = True
            conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            conn.close()
