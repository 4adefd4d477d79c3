"""The PostgreSQL backend: every Store contract suite, plus URLs, schemas, migrations,
errors, fencing, row locks and batches (notifications: test_store_postgres_notify.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import StoreError, StoreNotFoundError, StoreUnavailableError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    LeaseLostError,
    MemoryStore,
    OrchestrationCommit,
    OutgoingMessage,
    PostgresStore,
    Store,
    open_store,
)
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store.composites import lock_orchestration
from tests.runtime.pg import wait_until_waiting_on_a_lock
from tests.runtime.store_contract import (
    LEASE,
    T0,
    StoreContract,
    at,
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

postgres = pytest.mark.postgres


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    s = open_store(pg_url)
    yield s
    s.close()


@postgres
class TestPostgresStoreContract(
    StoreContract, WorkContract, StepContract, LeaseContract, PurgeContract, WorkersContract
):
    """The contract on a fresh schema."""

    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[Store]:
        s = open_store(pg_url)
        assert isinstance(s, PostgresStore)
        yield s
        s.close()


def _conn(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.partition("?")[0], autocommit=True)


def _schema(url: str) -> str:
    return url.rpartition("schema=")[2]


# -- URLs and errors (no server needed) ----------------------------------------------------
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_an_unreachable_server_is_a_clear_error_with_the_password_redacted(scheme: str) -> None:
    url = f"{scheme}://alice:s3cret@127.0.0.1:1/db?connect_timeout=2"
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1.*running") as info:
        open_store(url)
    assert "s3cret" not in str(info.value) and "alice:***@" in str(info.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://h/db?schema=Bad-Name", "bad schema name 'Bad-Name'"),
        ("postgresql://h/db?pool_max=lots", "bad PostgreSQL store option"),
        ("postgresql://h/db?pool_min=4&pool_max=2", "pool_min <= pool_max"),
    ],
)
def test_bad_postgres_urls_are_refused_before_connecting(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_connections_get_keepalives_unless_the_url_sets_them() -> None:
    from urllib.parse import parse_qs, urlsplit

    from durableflow.runtime.store.postgres_connect import parse_url

    target = parse_url("postgresql://u:pw@h/db?keepalives_idle=3&sslmode=require", {})
    libpq = {k: v[0] for k, v in parse_qs(urlsplit(target.conninfo).query).items()}
    assert libpq["keepalives_idle"] == "3" and libpq["sslmode"] == "require"
    assert (libpq["keepalives"], libpq["tcp_user_timeout"]) == ("1", "30000")
    assert "pw" not in repr(target)


def test_unknown_keyword_options_are_refused() -> None:
    with pytest.raises(StoreError, match="unknown PostgreSQL store option"):
        open_store("postgresql://h/db", busy_timeout=3)


# -- servers, databases, credentials -------------------------------------------------------
@postgres
def test_a_missing_database_raises_store_not_found(pg_server: str) -> None:
    base = pg_server.partition("?")[0].rpartition("/")[0]
    with pytest.raises(StoreNotFoundError, match="no_such_db_dft"):
        open_store(f"{base}/no_such_db_dft")


@postgres
def test_an_unknown_user_is_refused_clearly(pg_server: str) -> None:
    rest = pg_server.partition("://")[2].rpartition("@")[2]
    with pytest.raises(StoreUnavailableError, match="refused the credentials"):
        open_store(f"postgresql://nobody_dft:pw@{rest}")


# -- schemas and migrations ----------------------------------------------------------------
@postgres
def test_a_missing_schema_is_created_and_its_migrations_recorded(pg_fresh_url: str) -> None:
    store = open_store(pg_fresh_url)
    assert isinstance(store, PostgresStore)
    assert store.applied_migrations == [name for name, _ in sql.MIGRATIONS]
    store.close()
    with _conn(pg_fresh_url) as conn:
        names = conn.execute(
            f"SELECT name FROM {_schema(pg_fresh_url)}.migrations ORDER BY name"
        ).fetchall()
    assert [n for (n,) in names] == [name for name, _ in sql.MIGRATIONS]


@postgres
def test_reopening_a_schema_applies_nothing_and_keeps_data(pg_fresh_url: str) -> None:
    first = open_store(pg_fresh_url)
    start(first)
    first.close()
    second = open_store(pg_fresh_url)
    assert isinstance(second, PostgresStore) and second.applied_migrations == []
    assert second.get_instance("i1") is not None
    second.close()


@postgres
def test_a_schema_from_a_newer_version_is_refused(pg_fresh_url: str) -> None:
    open_store(pg_fresh_url).close()
    with _conn(pg_fresh_url) as conn:
        conn.execute(f"INSERT INTO {_schema(pg_fresh_url)}.migrations (name) VALUES ('9999_x')")
    with pytest.raises(StoreError, match=r"newer durableflow.*9999_x"):
        open_store(pg_fresh_url)


@postgres
def test_workers_starting_at_once_migrate_a_new_schema_once(pg_fresh_url: str) -> None:
    barrier = threading.Barrier(6)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            store = open_store(pg_fresh_url)
            assert isinstance(store, PostgresStore)
            applied.append(store.applied_migrations)
            store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(map(len, applied)) == [0] * 5 + [len(sql.MIGRATIONS)]


@postgres
def test_two_schemas_in_one_database_keep_their_instances_apart(
    pg_url: str, pg_fresh_url: str
) -> None:
    a, b = open_store(pg_url), open_store(pg_fresh_url)
    start(a, "only-in-a")
    assert b.get_instance("only-in-a") is None
    assert lock_orchestration(b, "w", now=T0, lease=LEASE) is None
    a.close()
    b.close()


# -- sharing and fencing -------------------------------------------------------------------
@postgres
def test_two_store_objects_on_one_schema_share_state(pg_url: str) -> None:
    a, b = open_store(pg_url), open_store(pg_url)
    start(a)
    assert lock_orchestration(b, "w", now=T0, lease=LEASE) is not None
    assert lock_orchestration(a, "w", now=T0, lease=LEASE) is None
    a.close()
    b.close()


@postgres
def test_a_stale_grant_is_refused_even_with_the_same_owner_expiry_and_history(
    store: Store,
) -> None:
    start(store)
    stale = lock(store, "w1")
    store.abandon_orchestration(stale)
    fresh = lock(store, "w1")  # same owner, same now: same expiry, same history length
    assert (fresh.lease_owner, fresh.lease_expires) == (stale.lease_owner, stale.lease_expires)
    with pytest.raises(LeaseLostError):
        step(store, stale)
    step(store, fresh)
    assert types(store.get_history("i1")) == ["ExecutionStarted"]


@postgres
def test_a_history_cached_by_one_store_sees_steps_written_by_another(pg_url: str) -> None:
    a, b = open_store(pg_url), open_store(pg_url)
    start(a)
    step(a, lock(a))  # a caches [ExecutionStarted]
    for n in range(2):
        b.send(OutgoingMessage("i1", raised(str(n))), now=T0)
        step(b, lock(b))
    b.send(OutgoingMessage("i1", raised()), now=T0)
    assert types(lock(a).history) == ["ExecutionStarted", "EventRaised", "EventRaised"]
    a.close()
    b.close()


@postgres
def test_steps_sending_to_each_other_at_once_do_not_deadlock(pg_url: str) -> None:
    stores = [open_store(pg_url) for _ in range(2)]
    for iid in ("a", "b"):
        start(stores[0], iid)
    items = stores[0].lock_orchestrations("w", now=T0, lease=LEASE, limit=2)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def commit(store: Store, item: Any) -> None:
        other = "b" if item.instance.instance_id == "a" else "a"
        barrier.wait()
        try:
            for _ in range(20):
                store.send(OutgoingMessage(other, raised()), now=T0)
            step(store, item, messages=[OutgoingMessage(other, raised("ping"))])
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=commit, args=(s, i)) for s, i in zip(stores, items, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for store in stores:
        store.close()


@postgres
def test_a_pool_with_every_connection_busy_says_so(pg_url: str) -> None:
    store = open_store(pg_url, pool_max=1, connect_timeout=1)
    start(store)
    step(store, lock(store), activities=[ScheduleActivity(1, "a")])
    act = store.lock_activity("w", now=T0, lease=LEASE)
    assert act is not None
    release, holding = threading.Event(), threading.Event()

    def decide(work: Any) -> None:  # runs inside the transaction: holds the only connection
        holding.set()
        release.wait(10)

    done = h.TaskCompleted(timestamp=T0, task_id=1)
    holder = threading.Thread(
        target=store.complete_activity_and_step,
        args=(act, done),
        kwargs={"now": T0, "lease": LEASE, "decide": decide},
    )
    holder.start()
    assert holding.wait(5)
    try:
        with pytest.raises(StoreUnavailableError, match="raise pool_max"):
            store.get_instance("i1")
    finally:
        release.set()
        holder.join()
    store.close()


@postgres
def test_a_transaction_left_idle_is_ended_by_the_server_and_its_locks_freed(pg_url: str) -> None:
    paused = open_store(pg_url, idle_in_transaction_timeout=0.3)
    other = open_store(pg_url)
    start(other)
    step(other, lock(other), activities=[ScheduleActivity(1, "a")])
    act = paused.lock_activity("w", now=T0, lease=LEASE)
    assert act is not None
    other.send(OutgoingMessage("i1", raised()), now=T0)
    taken: list[Any] = []

    def decide(work: Any) -> None:
        # The paused worker holds the instance's row lock here; the server ends its idle
        # transaction and the other worker can take the instance.
        waited = threading.Event()
        for _ in range(100):
            item = lock_orchestration(other, "w2", now=T0, lease=LEASE)
            if item is not None:
                taken.append(item)
                return
            waited.wait(0.05)

    done = h.TaskCompleted(timestamp=T0, task_id=1)
    with pytest.raises(StoreUnavailableError, match="idle longer than"):
        paused.complete_activity_and_step(act, done, now=T0, lease=LEASE, decide=decide)
    assert [t.instance.instance_id for t in taken] == ["i1"]
    assert done not in [m.event for m in taken[0].messages]
    paused.close()
    other.close()


@postgres
def test_opening_without_create_refuses_a_schema_with_no_store(pg_fresh_url: str) -> None:
    with pytest.raises(StoreNotFoundError, match=r"no durableflow store.*schema="):
        open_store(pg_fresh_url, create=False)
    open_store(pg_fresh_url).close()
    open_store(pg_fresh_url, create=False).close()


@postgres
def test_a_cli_command_on_a_mistyped_schema_fails_instead_of_creating_it(
    pg_fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from durableflow.cli import main

    assert main(["list", "--store", pg_fresh_url]) == 1
    assert "no durableflow store" in capsys.readouterr().err
    with _conn(pg_fresh_url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (_schema(pg_fresh_url),)
        ).fetchone()
    assert found == (0,)


@postgres
def test_a_chain_step_without_a_history_cache_reads_the_history_in_its_transaction(
    pg_url: str,
) -> None:
    store = open_store(pg_url, history_cache_size=0, pool_max=1, connect_timeout=2)
    start(store)
    step(store, lock(store), activities=[ScheduleActivity(1, "a")])
    act = store.lock_activity("w", now=T0, lease=LEASE)
    assert act is not None
    seen: list[list[str]] = []

    def decide(work: Any) -> None:
        seen.append(types(list(work.history)))

    done = h.TaskCompleted(timestamp=T0, task_id=1)
    assert store.complete_activity_and_step(act, done, now=T0, lease=LEASE, decide=decide) is None
    assert seen == [["ExecutionStarted"]]
    store.close()


def _batch_of_three(store: Store) -> list[tuple[Any, OrchestrationCommit]]:
    for iid in ("a", "b", "c"):
        start(store, iid)
    store.send(OutgoingMessage("b", raised("early")), now=T0)
    items = store.lock_orchestrations("w", now=T0, lease=LEASE, limit=3)
    plans = {
        "a": {
            "activities": [ScheduleActivity(1, "x", 1), ScheduleActivity(2, "y", 2)],
            "lease_activities_to": ("w", at(60)),
            "lease_limit": 1,
            "messages": [
                OutgoingMessage("b", raised("from-a")),
                OutgoingMessage("ghost", raised()),
            ],
        },
        "b": {"consume": 1, "messages": [OutgoingMessage("b", raised("timer"), visible_at=at(30))]},
        "c": {"status": RuntimeStatus.COMPLETED, "output": {"done": 1}},
    }
    batch = []
    for item in items:
        plan = dict(plans[item.instance.instance_id])
        taken = item.messages[: plan.pop("consume", len(item.messages))]
        batch.append(
            (
                item,
                OrchestrationCommit(
                    new_events=[m.event for m in taken],
                    consumed=[m.message_id for m in taken],
                    status=plan.pop("status", RuntimeStatus.RUNNING),
                    **plan,
                ),
            )
        )
    return batch


def _observed(store: Store, batch: list[tuple[Any, OrchestrationCommit]]) -> Any:
    leased = [[(a.name, a.input, a.attempt) for a in commit.leased] for _, commit in batch]
    rows = [store.get_instance(i) for i in ("a", "b", "c")]
    histories = [store.get_history(i) for i in ("a", "b", "c")]
    wake = store.next_wake_time()
    acts = []
    while (act := store.lock_activity("w2", now=at(100), lease=LEASE)) is not None:
        acts.append((act.instance_id, act.name, act.input, act.attempt))
    inbox = []
    while (item := lock_orchestration(store, "w3", now=at(100), lease=LEASE)) is not None:
        inbox.append((item.instance.instance_id, [m.event for m in item.messages]))
    return leased, rows, histories, wake, acts, inbox


@postgres
def test_a_batch_of_steps_writes_what_the_steps_one_at_a_time_would(
    pg_url: str, pg_fresh_url: str
) -> None:
    together, alone = open_store(pg_url), open_store(pg_fresh_url)
    batch = _batch_of_three(together)
    assert together.commit_orchestrations(batch, now=at(1)) == [True, True, True]
    singles = _batch_of_three(alone)
    for pair in singles:
        assert alone.commit_orchestrations([pair], now=at(1)) == [True]
    reference = MemoryStore()
    on_memory = _batch_of_three(reference)
    assert reference.commit_orchestrations(on_memory, now=at(1)) == [True, True, True]
    expected = _observed(reference, on_memory)
    assert _observed(together, batch) == expected
    assert _observed(alone, singles) == expected
    together.close()
    alone.close()


@postgres
def test_a_fused_step_that_deadlocks_records_its_result_alone_instead_of_losing_it(
    pg_url: str,
) -> None:
    store = open_store(pg_url)
    start(store, "i1")
    start(store, "t")
    first = lock(store)
    assert first.instance.instance_id == "i1"
    step(store, first, activities=[ScheduleActivity(1, "a")])
    act = store.lock_activity("w", now=T0, lease=LEASE)
    assert act is not None
    rival, watcher = _conn(pg_url), _conn(pg_url)
    schema = _schema(pg_url)
    # The rival waits longer before looking for deadlocks, so the step is the one aborted.
    rival.execute("SET deadlock_timeout = '20s'")
    rival_done = threading.Event()

    def rival_locks_t_then_i1() -> None:
        with rival.transaction():
            rival.execute(f"SELECT 1 FROM {schema}.instances WHERE instance_id = 't' FOR UPDATE")
            holding_t.set()
            rival.execute(f"SELECT 1 FROM {schema}.instances WHERE instance_id = 'i1' FOR UPDATE")
        rival_done.set()

    holding_t = threading.Event()

    def decide(work: Any) -> OrchestrationCommit:
        # This transaction holds i1's row: the rival takes t's and queues behind i1's.
        threading.Thread(target=rival_locks_t_then_i1, daemon=True).start()
        assert holding_t.wait(10)
        wait_until_waiting_on_a_lock(watcher, rival.info.backend_pid)
        return OrchestrationCommit(
            new_events=[m.event for m in work.messages],
            status=RuntimeStatus.RUNNING,
            consumed=[m.message_id for m in work.messages],
            messages=[OutgoingMessage("t", raised())],
        )

    done = h.TaskCompleted(timestamp=T0, task_id=1, result="r")
    assert store.complete_activity_and_step(act, done, now=T0, lease=LEASE, decide=decide) is None
    assert rival_done.wait(10)
    # Nothing of the step was written; the result waits in i1's inbox for its next step.
    assert done in [m.event for m in lock(store).messages]
    assert [type(e).__name__ for e in store.get_history("t")] == []
    for c in (rival, watcher):
        c.close()
    store.close()
