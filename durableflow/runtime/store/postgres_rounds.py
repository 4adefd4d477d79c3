"""A PostgreSQL transaction sent as a few round trips of several statements each.

A chain step is half a dozen short statements; sent one at a time, the worker spends most
of its time waiting for the server. :class:`Rounds` queues statements and sends those of
one round together, as one simple-protocol query string (client-side binding), with
``BEGIN`` in front of the first round and ``COMMIT`` behind the last. The statements stay
separate: in READ COMMITTED each still takes its own snapshot, in the order given, exactly
as when sent one by one; only the waiting between them goes. Not pipeline mode: between
rounds the session is idle in its transaction, so ``idle_in_transaction_session_timeout``
still frees the row locks of a paused or cut-off client (see docs/storage.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from durableflow.runtime.store import postgres_sql as sql

Rows = list[tuple[Any, ...]]
"""The rows one statement returned (empty for one that returns none)."""


class Rounds:
    """One transaction on ``conn`` (an autocommit connection), sent round by round.

    :meth:`add` queues a statement; :meth:`send` sends the queued ones in one round trip
    and returns each one's rows; :meth:`commit` sends the rest with ``COMMIT``. On an error
    in a round the server skips the rest of that round (so ``COMMIT`` too); :meth:`abort`
    then rolls the transaction back.
    """

    def __init__(self, conn: Any, *, durable: bool = True) -> None:
        from psycopg import ClientCursor

        self._cur = ClientCursor(conn)
        self._conn = conn
        self._queued: list[str] = ["BEGIN"]
        self._ours: list[bool] = [False]
        if not durable:
            self._queued.append(sql.NOT_DURABLE)
            self._ours.append(False)
        self._open = True

    def add(self, statement: str, params: Sequence[Any] | dict[str, Any] | None = None) -> int:
        """Queue ``statement`` (with ``%s`` or ``%(name)s`` placeholders) for the next round;
        where its rows will be in the list that round's :meth:`send` or :meth:`commit`
        returns."""
        self._queued.append(self._cur.mogrify(statement, params) if params else statement)
        self._ours.append(True)
        return sum(self._ours) - 1

    def send(self) -> list[Rows]:
        """Send the queued statements in one round trip; the rows of each, in order."""
        return self._round()

    def commit(self) -> list[Rows]:
        """Send the queued statements and ``COMMIT`` in one round trip; the rows of each."""
        self._queued.append("COMMIT")
        self._ours.append(False)
        results = self._round()
        self._open = False
        return results

    def abort(self) -> None:
        """Roll back whatever this transaction wrote (nothing of it is kept)."""
        from psycopg import Error
        from psycopg.pq import TransactionStatus

        self._open = False
        if self._conn.info.transaction_status != TransactionStatus.IDLE:
            # A broken connection cannot roll back; the pool discards it, and the server
            # rolls back a session that ends.
            with contextlib.suppress(Error):
                self._conn.execute("ROLLBACK")

    def _round(self) -> list[Rows]:
        queued, ours = self._queued, self._ours
        self._queued, self._ours = [], []
        if not queued:
            return []
        cur = self._cur
        cur.execute(";\n".join(queued))
        results: list[Rows] = []
        for mine in ours:
            if mine:
                results.append(cur.fetchall() if cur.description is not None else [])
            cur.nextset()
        return results
