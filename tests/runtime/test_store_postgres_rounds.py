"""A PostgreSQL transaction sent as rounds of several statements (``postgres_rounds``):
each statement's rows come back, a failure anywhere writes nothing, and a client paused
between rounds is still ended by ``idle_in_transaction_session_timeout``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from durableflow.runtime.store import open_store
from durableflow.runtime.store import postgres_connect as db
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store.postgres_rounds import Rounds
from tests.runtime.store_contract import start

postgres = pytest.mark.postgres


@pytest.fixture
def conn(pg_url: str) -> Iterator[Any]:
    """A connection as the store's pool makes them, with a table of its own session."""
    c = db.connect(db.parse_url(pg_url, {}))
    c.execute("CREATE TEMP TABLE t (x INTEGER)")
    yield c
    c.close()


@postgres
def test_each_statement_of_a_round_gives_back_its_own_rows_in_order(conn: Any) -> None:
    tx = Rounds(conn)
    tx.add("INSERT INTO t VALUES (%s), (%s)", (1, 2))
    at = tx.add("SELECT count(*) FROM t")
    tx.add("SELECT x FROM t WHERE x > %(min)s ORDER BY x", {"min": 0})
    rows = tx.commit()
    assert at == 1
    assert rows == [[], [(2,)], [(1,), (2,)]]


@postgres
def test_parameters_are_bound_as_values_whatever_they_hold(conn: Any) -> None:
    odd = 'it\'s 100% {"a": "\\\\"} ; COMMIT; --'
    tx = Rounds(conn)
    tx.add("SELECT %s::text, %s::text[], %s::int", (odd, [odd, None], None))
    assert tx.commit() == [[(odd, [odd, None], None)]]


@postgres
def test_a_failing_statement_writes_nothing_of_its_transaction(conn: Any) -> None:
    tx = Rounds(conn)
    tx.add("INSERT INTO t VALUES (1)")
    tx.send()
    tx.add("INSERT INTO t VALUES (2)")
    tx.add("SELECT 1 / 0")
    tx.add("INSERT INTO t VALUES (3)")
    with pytest.raises(Exception, match="division by zero"):
        tx.commit()
    tx.abort()
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


@postgres
def test_a_client_paused_between_rounds_loses_its_row_locks(pg_url: str) -> None:
    store = open_store(pg_url)
    start(store)
    paused = db.connect(db.parse_url(pg_url, {"idle_in_transaction_timeout": 0.3}))
    tx = Rounds(paused)
    tx.add(sql.LOCK_STEP_STATE, ("i1",))
    tx.send()
    other = db.connect(db.parse_url(pg_url, {}))
    # Waits on the paused transaction's row lock until the server ends that session.
    other.execute("SET lock_timeout = '5s'")
    with other.transaction():
        assert other.execute(sql.LOCK_STEP_STATE, ("i1",)).fetchone() is not None
    with pytest.raises(Exception, match="idle"):
        tx.commit()
    other.close()
    paused.close()
    store.close()
