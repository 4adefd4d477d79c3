"""A PostgreSQL transaction sent as a few round trips of several statements each.

A chain step is half a dozen short statements; sent one at a time, the worker spends most
of its time waiting for the server. :class:`Rounds` queues statements and sends those of
one round together, as one simple-protocol query string (client-side binding), with
``BEGIN`` in front of the first round and ``COMMIT`` behind the last. The statements stay
separate: in READ COMMITTED each still takes its own snapshot, in the order given, exactly
as when sent one by one; only the waiting between them goes. Not pipeline mode: between
rounds the session is idle in its transaction, so ``idle_in_transaction_session_timeout``
still frees the row locks of a paused or cut-off client (see docs/storage.md).

The statements of :data:`postgres_sql.HOT_STATEMENTS` are prepared once per connection
(:func:`prepare`) and sent as ``EXECUTE name(arguments)``: a simple-protocol string is
otherwise parsed and planned afresh every time, which was a third of the server's work
for a chain step.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store.postgres_literals import literal

Rows = list[tuple[Any, ...]]
"""The rows one statement returned (empty for one that returns none)."""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


class Prepared(NamedTuple):
    """One statement as a server-side prepared statement."""

    name: str
    prepare: str
    """``PREPARE name AS ...``, the statement with ``$n`` parameters."""
    keys: tuple[str, ...]
    """The statement's parameter names in ``$n`` order (``%(key)s``), or one empty string
    for each ``%s``."""

    def execute(self, params: Sequence[Any] | dict[str, Any] | None, quote: Quote) -> str:
        """``EXECUTE name(...)`` with ``params`` (in the form the statement's own
        placeholders take) written as literals by ``quote``."""
        if not self.keys:
            return f"EXECUTE {self.name}"
        if isinstance(params, dict):
            values: Sequence[Any] = [params[key] for key in self.keys]
        else:
            values = params or ()
            if len(values) != len(self.keys):
                raise TypeError(
                    f"{self.name} takes {len(self.keys)} parameters, {len(values)} given"
                )
        return f"EXECUTE {self.name}({', '.join(map(quote, values))})"


Quote = Callable[[Any], str]
"""Writes one parameter value as an SQL literal."""


def prepared(name: str, statement: str) -> Prepared:
    """``statement`` (``%s`` or ``%(key)s`` placeholders, not both) as :class:`Prepared`;
    a named placeholder used several times is one parameter."""
    keys: list[str] = []
    named: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "%%":
            return "%"
        key = match.group(1)
        if key is None:
            keys.append("")
            return f"${len(keys)}"
        if key not in named:
            keys.append(key)
            named[key] = len(keys)
        return f"${named[key]}"

    body = _PLACEHOLDER.sub(number, statement)
    if "" in keys and len(named):
        raise ValueError(f"{name} mixes %s and %(key)s placeholders")
    return Prepared(name, f"PREPARE {name} AS {body}", tuple(keys))


PREPARED: dict[str, Prepared] = {
    statement: prepared(f"durableflow_{n}", statement)
    for n, statement in enumerate(sql.HOT_STATEMENTS)
}
"""The prepared form of each of :data:`postgres_sql.HOT_STATEMENTS`, by its text."""

_ready: weakref.WeakSet[Any] = weakref.WeakSet()
_never: weakref.WeakSet[Any] = weakref.WeakSet()


def never_prepare(conn: Any) -> None:
    """Send the statements on ``conn`` as text from now on (``?prepare=false``: behind a
    pooler in transaction mode a prepared statement may be on another server session)."""
    _never.add(conn)


def prepare(conn: Any) -> bool:
    """Prepare :data:`PREPARED` on ``conn`` (an autocommit connection) unless it has them
    or :func:`never_prepare` was said of it; whether it has them. One round trip, once per
    connection. Prepared statements live as long as the session, whatever becomes of the
    transactions around them."""
    if conn in _ready:
        return True
    if conn in _never:
        return False
    conn.execute(";\n".join(p.prepare for p in PREPARED.values()))
    _ready.add(conn)
    return True


def _quote_for(cur: Any) -> Quote:
    """A :data:`Quote`: :func:`postgres_literals.literal`, or ``cur``'s (psycopg's) own
    quoting for a kind of value that does not write."""

    def quote(value: Any) -> str:
        written = literal(value)
        if written is None:
            written = cur.mogrify("%s", (value,))
        return written

    return quote


def execute(conn: Any, statement: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
    """Run one ``statement`` on ``conn`` outside a :class:`Rounds` (a read, or a write in
    the caller's transaction), as its prepared statement where it has one (see
    :func:`prepare`); the cursor, to fetch from."""
    from psycopg import ClientCursor

    known = PREPARED.get(statement)
    if known is None or not prepare(conn):
        return conn.execute(statement, params)
    cur = ClientCursor(conn)
    cur.execute(known.execute(params, _quote_for(cur)))
    return cur


class Rounds:
    """One transaction on ``conn`` (an autocommit connection), sent round by round; the
    statements of :data:`PREPARED` as prepared statements (see :func:`prepare`).

    :meth:`add` queues a statement; :meth:`send` sends the queued ones in one round trip
    and returns each one's rows; :meth:`commit` sends the rest with ``COMMIT``. On an error
    in a round the server skips the rest of that round (so ``COMMIT`` too); :meth:`abort`
    then rolls the transaction back.
    """

    def __init__(self, conn: Any, *, durable: bool = True) -> None:
        from psycopg import ClientCursor

        self._prepared = PREPARED if prepare(conn) else {}
        self._cur = ClientCursor(conn)
        self._quote = _quote_for(self._cur)
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
        known = self._prepared.get(statement)
        if known is not None:
            self._queued.append(known.execute(params, self._quote))
        else:
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
