"""A PostgreSQL transaction sent as rounds of several statements (``postgres_rounds``):
each statement's rows come back, a failure anywhere writes nothing, a client paused
between rounds is still ended by ``idle_in_transaction_session_timeout``, the step
statements stay prepared, and a check refused on the server stops its round."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import durableflow as df
from durableflow.runtime.store import open_store, postgres_rounds
from durableflow.runtime.store import postgres_connect as db
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store.postgres_rounds import Rounds, execute, never_prepare, prepared
from tests.runtime.pg import wait_until_waiting_on_a_lock
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


def test_a_prepared_statement_numbers_its_parameters_and_executes_with_the_callers() -> None:
    named = prepared("s", "SELECT %(a)s, %(b)s, %(a)s, 5 %% 2")
    assert named.prepare == "PREPARE s AS SELECT $1, $2, $1, 5 % 2"
    assert named.execute({"b": 2, "a": 1}, str) == "EXECUTE s(1, 2)"
    assert prepared("p", "SELECT %s + %s").execute((1, 2), str) == "EXECUTE p(1, 2)"
    assert prepared("n", "SELECT 1").execute(None, str) == "EXECUTE n"


def test_executing_a_prepared_statement_with_the_wrong_number_of_parameters_fails() -> None:
    with pytest.raises(TypeError, match="takes 2 parameters, 1 given"):
        prepared("p", "SELECT %s + %s").execute((1,), str)


@postgres
def test_the_step_statements_stay_prepared_after_a_rolled_back_transaction(conn: Any) -> None:
    for _ in range(10):  # often enough for psycopg to prepare it, were that on
        conn.execute("SELECT count(*) FROM t")
    failed = Rounds(conn)
    failed.add("SELECT 1 / 0")
    with pytest.raises(Exception, match="division by zero"):
        failed.commit()
    failed.abort()
    tx = Rounds(conn)
    tx.add(sql.NOTIFY, ("durableflow.test", "x"))
    assert len(tx.commit()[0]) == 1


def _history_len(conn: Any, iid: str) -> int:
    (n,) = conn.execute("SELECT count(*) FROM history WHERE instance_id = %s", (iid,)).fetchone()
    return int(n)


@postgres
def test_a_step_check_refused_on_the_server_stops_its_round_and_writes_nothing(
    pg_url: str, conn: Any
) -> None:
    store = open_store(pg_url)
    start(store)
    before = _history_len(conn, "i1")
    tx = Rounds(conn)
    check = {"iid": "i1", "now": 0, "len": before + 99, "xid": "x", "epoch": "e"}
    tx.add(sql.CHECK_STEP_STATE, check)
    tx.add(sql.APPEND_HISTORY, ("i1", before, ['{"type": "OrchestratorStarted"}']))
    with pytest.raises(Exception) as refused:
        tx.commit()
    tx.abort()
    assert getattr(refused.value, "sqlstate", None) == sql.NOT_AS_PLANNED
    assert _history_len(conn, "i1") == before
    store.close()


@postgres
def test_taking_an_activity_whose_lease_is_gone_is_refused_on_the_server(
    pg_url: str, conn: Any
) -> None:
    store = open_store(pg_url)
    tx = Rounds(conn)
    tx.add(sql.TAKE_LEASED_ACTIVITY, (123456, 1))
    with pytest.raises(Exception) as refused:
        tx.commit()
    tx.abort()
    assert getattr(refused.value, "sqlstate", None) == sql.ACTIVITY_LEASE_LOST
    store.close()


@postgres
def test_a_step_check_that_waited_for_a_row_lock_judges_the_row_as_its_holder_left_it(
    pg_url: str, conn: Any
) -> None:
    store = open_store(pg_url)
    start(store)
    xid, epoch, length = conn.execute(
        "SELECT execution_id, history_epoch, history_len FROM instances WHERE instance_id = 'i1'"
    ).fetchone()
    holder = db.connect(db.parse_url(pg_url, {}))
    watcher = db.connect(db.parse_url(pg_url, {}))
    holder.execute("BEGIN")
    holder.execute("UPDATE instances SET history_len = history_len + 1 WHERE instance_id = 'i1'")
    outcome: dict[str, Any] = {}

    def check() -> None:
        tx = Rounds(conn)
        planned = {"iid": "i1", "now": 0, "len": length, "xid": xid, "epoch": epoch}
        tx.add(sql.CHECK_STEP_STATE, planned)
        try:
            tx.commit()
            outcome["committed"] = True
        except Exception as exc:
            outcome["refused"] = getattr(exc, "sqlstate", None)
            tx.abort()

    checking = threading.Thread(target=check)
    checking.start()
    wait_until_waiting_on_a_lock(watcher, conn.info.backend_pid)
    holder.execute("COMMIT")
    checking.join(10)
    assert outcome == {"refused": sql.NOT_AS_PLANNED}
    for c in (holder, watcher):
        c.close()
    store.close()


chain_app = df.App()


@chain_app.activity
def add_one(x: int) -> int:
    return x + 1


@chain_app.orchestrator
def count_to_three(ctx: df.OrchestrationContext, x: int) -> Any:
    for _ in range(3):
        x = yield ctx.call_activity("add_one", x)
    return x


@postgres
def test_a_store_opened_with_prepare_false_runs_workflows_without_preparing(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[bool] = []
    real = postgres_rounds.prepare

    def asked(conn: Any) -> bool:
        answers.append(real(conn))
        return answers[-1]

    monkeypatch.setattr(postgres_rounds, "prepare", asked)
    with df.Runtime(chain_app, pg_url + "&prepare=false", poll_interval=0.05) as rt:
        iid = rt.client.start_new("count_to_three", input=0)
        state = rt.client.wait_for_completion(iid, timeout=30)
    assert state.output == 3
    assert answers and not any(answers)


def test_the_prepare_option_is_a_flag() -> None:
    assert db.parse_url("postgresql://h/db?prepare=off", {}).prepare is False
    assert db.parse_url("postgresql://h/db", {}).prepare is True


def _prepared_here(conn: Any) -> int:
    (n,) = conn.execute(
        "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'durableflow%'"
    ).fetchone()
    return int(n)


@postgres
def test_a_frequent_read_runs_as_its_prepared_statement_and_reads_the_same_row(
    pg_url: str, conn: Any
) -> None:
    store = open_store(pg_url)
    start(store)
    plain = conn.execute(sql.GET_INSTANCE, ("i1",)).fetchone()
    assert _prepared_here(conn) == 0
    assert execute(conn, sql.GET_INSTANCE, ("i1",)).fetchone() == plain
    assert _prepared_here(conn) == len(sql.HOT_STATEMENTS)
    store.close()


@postgres
def test_a_connection_told_never_to_prepare_prepares_nothing(pg_url: str, conn: Any) -> None:
    store = open_store(pg_url)
    start(store)
    never_prepare(conn)
    assert execute(conn, sql.GET_INSTANCE, ("i1",)).fetchone() is not None
    assert _prepared_here(conn) == 0
    store.close()
