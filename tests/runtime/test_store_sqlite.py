"""The SQLite backend: the Store contract, plus file, locking and migration behaviour."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import InstanceAlreadyExistsError, StoreError, StoreLockedError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    InstanceQuery,
    OutgoingMessage,
    SqliteStore,
    Store,
    open_store,
)
from durableflow.runtime.store import sqlite_sql as sql
from durableflow.runtime.store.composites import lock_orchestration
from tests.runtime.store_contract import (
    LEASE,
    T0,
    StoreContract,
    lock,
    raised,
    start,
    step,
    types,
)
from tests.runtime.store_lease_contract import LeaseContract
from tests.runtime.store_purge_contract import PurgeContract
from tests.runtime.store_step_contract import StepContract
from tests.runtime.store_workers_contract import WorkersContract
from tests.runtime.test_store_work_contract import WorkContract


class TestSqliteStoreContract(
    StoreContract, WorkContract, StepContract, LeaseContract, PurgeContract, WorkersContract
):
    """The contract on a fresh database file."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        s = SqliteStore(str(tmp_path / "store.db"))
        yield s
        s.close()


def _db(tmp_path: Path, name: str = "store.db") -> str:
    return str(tmp_path / name)


# -- files that are not ours ---------------------------------------------------------------
def test_a_file_that_is_not_sqlite_raises_and_is_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 50)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a durableflow/SQLite database") as info:
        SqliteStore(str(path))
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_corrupt_database_raises_and_is_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqliteStore(str(path))
    start(store)
    store.close()
    data = bytearray(path.read_bytes())
    data[100:600] = b"\xff" * 500  # page 1's b-tree header and cell pointers
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="not a durableflow/SQLite database"):
        SqliteStore(str(path))
    assert path.read_bytes() == bytes(data)


def test_another_applications_database_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        conn.commit()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application: tables users"):
        SqliteStore(str(path))
    assert path.read_bytes() == before


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    store = SqliteStore(str(path))
    start(store)
    assert store.get_instance("i1") is not None


# -- locking -------------------------------------------------------------------------------
def test_a_write_blocked_past_the_busy_timeout_raises_store_locked_error(
    tmp_path: Path,
) -> None:
    store = SqliteStore(_db(tmp_path), busy_timeout=0.05)
    with closing(sqlite3.connect(_db(tmp_path), isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreLockedError, match=r"busy timeout of 0\.05s"):
            start(store)
        other.execute("ROLLBACK")


def test_a_write_that_timed_out_loses_nothing_and_can_be_retried(tmp_path: Path) -> None:
    store = SqliteStore(_db(tmp_path), busy_timeout=0.05)
    start(store, "kept")
    with closing(sqlite3.connect(_db(tmp_path), isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreLockedError):
            start(store, "blocked")
        assert store.get_instance("kept") is not None  # readers are not blocked in WAL
        other.execute("ROLLBACK")
    assert store.get_instance("blocked") is None
    start(store, "blocked")
    assert {r.instance_id for r in store.list_instances(InstanceQuery())} == {"kept", "blocked"}


# -- schema, migrations, PRAGMAs -----------------------------------------------------------
def test_migrations_are_recorded_by_name(tmp_path: Path) -> None:
    SqliteStore(_db(tmp_path)).close()
    with closing(sqlite3.connect(_db(tmp_path))) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM migrations")]
    assert names == [name for name, _ in sql.MIGRATIONS]


def test_reopening_a_store_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    first = SqliteStore(_db(tmp_path))
    start(first)
    first.close()
    second = SqliteStore(_db(tmp_path))
    assert second.get_instance("i1") is not None
    with closing(sqlite3.connect(_db(tmp_path))) as conn:
        assert conn.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(sql.MIGRATIONS)


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    SqliteStore(_db(tmp_path)).close()
    with closing(sqlite3.connect(_db(tmp_path))) as conn:
        conn.execute("INSERT INTO migrations VALUES ('9999_future', 'x')")
        conn.commit()
    with pytest.raises(StoreError, match=r"newer durableflow.*9999_future"):
        SqliteStore(_db(tmp_path))


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    SqliteStore(_db(tmp_path))
    with closing(sqlite3.connect(_db(tmp_path))) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_synchronous_defaults_to_full(tmp_path: Path) -> None:
    assert SqliteStore(_db(tmp_path)).synchronous == "FULL"


def test_an_unknown_synchronous_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="synchronous='FAST'"):
        SqliteStore(_db(tmp_path), synchronous="FAST")


@pytest.mark.parametrize(
    "statement", ["LOCK_ORCHESTRATION", "LOCK_ACTIVITY", "VISIBLE_MESSAGES", "HISTORY_FROM"]
)
def test_hot_path_queries_use_indexes(tmp_path: Path, statement: str) -> None:
    SqliteStore(_db(tmp_path)).close()
    text = getattr(sql, statement)
    params: Any = {"owner": "w", "expires": 1, "now": 1} if ":now" in text else ("i", 0)
    with closing(sqlite3.connect(_db(tmp_path))) as conn:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + text, params)]
    scans = [p for p in plan if p.startswith("SCAN") and p != "SCAN activities"]
    assert scans == [], plan  # activities: a rowid walk that stops at the first free one


# -- URLs ----------------------------------------------------------------------------------
def test_relative_urls_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///rel.db")
    assert isinstance(store, SqliteStore) and (tmp_path / "rel.db").exists()


def test_absolute_urls_take_four_slashes(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(store, SqliteStore) and store.path == str(tmp_path / "abs.db")


def test_url_query_sets_options_and_keywords_override(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}?busy_timeout=2.5&synchronous=normal"
    store = open_store(url, busy_timeout=1)
    assert isinstance(store, SqliteStore)
    assert (store.busy_timeout, store.synchronous, store.url) == (1.0, "NORMAL", url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://host/x.db", "three slashes"),
        ("sqlite:///x.db?colour=red", "unknown SQLite store option"),
        ("sqlite:///:memory:", "memory://"),
        ("sqlite:///no/such/dir/x.db", "does not exist"),
        ("redis://localhost", "unknown store URL"),
        ("durable.db", "did you mean sqlite:///durable.db"),
    ],
)
def test_bad_urls_get_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as info:
        open_store(url)
    assert "secret" not in str(info.value)


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        SqliteStore(str(tmp_path))


# -- several connections on one file -------------------------------------------------------
def test_two_store_objects_on_one_file_share_state(tmp_path: Path) -> None:
    a, b = SqliteStore(_db(tmp_path)), SqliteStore(_db(tmp_path))
    start(a)
    assert lock_orchestration(b, "w", now=T0, lease=LEASE) is not None
    assert lock_orchestration(a, "w", now=T0, lease=LEASE) is None


def test_32_connections_starting_one_id_have_exactly_one_winner(tmp_path: Path) -> None:
    stores = [SqliteStore(_db(tmp_path)) for _ in range(32)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def attempt(store: SqliteStore) -> None:
        barrier.wait()
        try:
            start(store, "singleton")
            outcomes.append("won")
        except InstanceAlreadyExistsError:
            outcomes.append("lost")

    threads = [threading.Thread(target=attempt, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost"] * 31 + ["won"]


def test_a_history_cached_by_one_store_sees_steps_written_by_another(tmp_path: Path) -> None:
    a, b = SqliteStore(_db(tmp_path)), SqliteStore(_db(tmp_path))
    start(a)
    step(a, lock(a))  # a caches [ExecutionStarted]
    for n in range(2):
        b.send(OutgoingMessage("i1", raised(str(n))), now=T0)
        step(b, lock(b))
    b.send(OutgoingMessage("i1", raised()), now=T0)
    assert types(lock(a).history) == ["ExecutionStarted", "EventRaised", "EventRaised"]


def test_a_cached_history_is_not_reused_after_continue_as_new(tmp_path: Path) -> None:
    a, b = SqliteStore(_db(tmp_path)), SqliteStore(_db(tmp_path))
    start(a)
    step(a, lock(a), new_events=[raised("old")])  # a caches the old execution
    b.send(OutgoingMessage("i1", raised()), now=T0)
    step(
        b,
        lock(b),
        status=RuntimeStatus.CONTINUED_AS_NEW,
        continue_as_new="x2",
        continue_messages=[raised("new")],
    )
    step(b, lock(b), new_events=[raised("fresh")])
    b.send(OutgoingMessage("i1", raised()), now=T0)
    assert [e.name for e in lock(a).history] == ["fresh"]  # type: ignore[attr-defined]


def test_many_threads_writing_through_one_store_are_not_starved(tmp_path: Path) -> None:
    store = SqliteStore(_db(tmp_path), busy_timeout=5, synchronous="OFF")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(40):
                start(store, f"t{n}-{k}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.list_instances(InstanceQuery())) == 320


def _vm_steps_to_lock(path: str, instances: int) -> dict[str, int]:
    """SQLite VM instructions the lock statements take on a store of ``instances`` instances,
    each with five queued messages and one queued activity, eight of each leased."""
    SqliteStore(path).close()
    now, later = 10**15, 10**15 + 10**9
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO instances (instance_id, name, execution_id, status, created_at,"
            " updated_at, history_epoch, next_visible_at, lease_owner, lease_expires)"
            " VALUES (?, 'o', 'x', 'RUNNING', ?, ?, 'e', ?, ?, ?)",
            [
                (f"i{n:06d}", n, n, n, "w" if n < 8 else None, later if n < 8 else None)
                for n in range(instances)
            ],
        )
        conn.executemany(
            "INSERT INTO messages (instance_id, execution_id, visible_at, event)"
            " VALUES (?, 'x', ?, '{}')",
            [(f"i{n:06d}", n) for n in range(instances) for _ in range(5)],
        )
        conn.executemany(
            "INSERT INTO activities (instance_id, execution_id, task_id, name, input,"
            " visible_at, lease_owner, lease_expires) VALUES (?, 'x', 1, 'a', '1', ?, ?, ?)",
            [
                (f"i{n:06d}", n, "w" if n < 8 else None, later if n < 8 else None)
                for n in range(instances)
            ],
        )
        conn.execute("COMMIT")
        steps = {}
        for name in ("LOCK_ORCHESTRATION", "LOCK_ACTIVITY", "ANY_READY_INSTANCE"):
            count = [0]

            def tick(count: list[int] = count) -> int:
                count[0] += 1
                return 0

            conn.set_progress_handler(tick, 1)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(getattr(sql, name), {"owner": "z", "expires": later, "now": now})
            conn.execute("ROLLBACK")
            conn.set_progress_handler(None, 1)
            steps[name] = count[0]
        return steps


def test_locking_costs_the_same_with_10k_instances_as_with_100(tmp_path: Path) -> None:
    small = _vm_steps_to_lock(_db(tmp_path, "small.db"), 100)
    large = _vm_steps_to_lock(_db(tmp_path, "large.db"), 10_000)
    assert large == small


def test_a_database_from_before_activity_timeouts_is_upgraded_in_place(tmp_path: Path) -> None:
    with closing(sqlite3.connect(_db(tmp_path))) as conn:
        conn.execute(sql.CREATE_MIGRATIONS)
        for statement in dict(sql.MIGRATIONS)["0001_initial"]:
            conn.execute(statement)
        conn.execute(sql.RECORD_MIGRATION, ("0001_initial", "2026-11-01T00:00:00+00:00"))
        conn.commit()
    store = SqliteStore(_db(tmp_path))
    start(store)
    limit = timedelta(seconds=2)
    step(store, lock(store), activities=[ScheduleActivity(1, "a", 1, limit)])
    act = store.lock_activity("w", now=T0, lease=LEASE)
    store.close()
    assert act is not None and act.timeout == limit
