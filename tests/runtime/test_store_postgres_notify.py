"""The PostgreSQL store's notifications: ``subscribe`` hears, by LISTEN, the work other
store objects make visible, reconnects when its connection drops, and stops when closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import Any

import pytest

import durableflow as df
from durableflow.core import history as h
from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import StoreError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client
from durableflow.runtime.store import OutgoingMessage, PostgresStore, Store, open_store
from durableflow.runtime.worker import Worker
from tests.runtime.store_contract import LEASE, T0, at, lock, new_instance, raised, start, step

postgres = pytest.mark.postgres


def _conn(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.partition("?")[0], autocommit=True)


def _schema(url: str) -> str:
    return url.rpartition("schema=")[2]


def _subscribed(url: str) -> tuple[PostgresStore, threading.Event, Any]:
    listener = open_store(url)
    assert isinstance(listener, PostgresStore)
    heard = threading.Event()
    return listener, heard, listener.subscribe(heard.set)


@postgres
def test_a_subscription_hears_a_new_instance_made_by_another_store(pg_url: str) -> None:
    listener, heard, subscription = _subscribed(pg_url)
    other = open_store(pg_url)
    began = time.monotonic()
    start(other)
    assert heard.wait(1.0)
    assert time.monotonic() - began < 1.0
    subscription.close()
    listener.close()
    other.close()


@postgres
@pytest.mark.parametrize("event", ["raised event", "activity result", "child finished"])
def test_a_subscription_hears_work_another_store_makes_visible(pg_url: str, event: str) -> None:
    other = open_store(pg_url)
    start(other)
    item = lock(other)
    if event == "raised event":
        step(other, item)
    elif event == "activity result":
        step(other, item, activities=[ScheduleActivity(1, "a")])
        act = other.lock_activity("w", now=T0, lease=LEASE)
    else:
        step(other, item, new_instances=[new_instance("child", "sub", xid="cx")])
        child = lock(other)
    listener, heard, subscription = _subscribed(pg_url)
    if event == "raised event":
        other.send(OutgoingMessage("i1", raised()), now=T0)
    elif event == "activity result":
        assert act is not None
        other.complete_activity(act, h.TaskCompleted(timestamp=T0, task_id=1), now=T0)
    else:
        done = h.SubOrchestrationInstanceCompleted(timestamp=T0, task_id=0, result=1)
        step(other, child, status=RuntimeStatus.COMPLETED, messages=[OutgoingMessage("i1", done)])
    assert heard.wait(1.0)
    subscription.close()
    listener.close()
    other.close()


@postgres
def test_a_future_timer_is_not_announced(pg_url: str) -> None:
    other = open_store(pg_url)
    start(other)
    step(other, lock(other))
    listener = open_store(pg_url)
    assert isinstance(listener, PostgresStore)
    calls = threading.Semaphore(0)
    subscription = listener.subscribe(calls.release)
    other.send(OutgoingMessage("i1", raised(), visible_at=at(3600)), now=T0)
    start(other, "marker")  # heard after the timer's, were the timer announced
    assert calls.acquire(timeout=1.0)
    assert not calls.acquire(timeout=0.3)
    subscription.close()
    listener.close()
    other.close()


@postgres
def test_a_closed_subscription_calls_nothing_more(pg_url: str) -> None:
    listener, heard, subscription = _subscribed(pg_url)
    other = open_store(pg_url)
    subscription.close()
    start(other)
    assert not heard.wait(0.3)
    listener.close()
    other.close()


@postgres
def test_a_subscription_is_not_told_of_its_own_stores_writes(pg_url: str) -> None:
    listener = open_store(pg_url)
    other = open_store(pg_url)
    assert isinstance(listener, PostgresStore)
    calls = threading.Semaphore(0)
    subscription = listener.subscribe(calls.release)
    start(listener, "own")
    start(other, "marker")  # heard after the own write's, were that one announced
    assert calls.acquire(timeout=1.0)
    assert not calls.acquire(timeout=0.3)
    subscription.close()
    listener.close()
    other.close()


def _with(url: str, option: str) -> str:
    return f"{url}&{option}" if "?" in url else f"{url}?{option}"


@postgres
def test_a_store_opened_with_notify_false_announces_nothing(pg_url: str) -> None:
    listener = open_store(pg_url)
    calls = threading.Semaphore(0)
    subscription = listener.subscribe(calls.release)
    quiet = open_store(_with(pg_url, "notify=false"))
    other = open_store(pg_url)
    start(quiet, "quiet")
    start(other, "marker")  # heard after the quiet store's, were that one announced
    assert calls.acquire(timeout=1.0)
    assert not calls.acquire(timeout=0.3)
    assert quiet.get_instance("quiet") is not None
    subscription.close()
    for store in (listener, quiet, other):
        store.close()


@postgres
def test_a_store_opened_with_notify_false_opens_no_listener(pg_url: str) -> None:
    quiet = open_store(_with(pg_url, "notify=off"))
    subscription = quiet.subscribe(lambda: None)
    with _conn(pg_url) as conn:
        listening = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (f"durableflow-listen-{_schema(pg_url)}"[:63],),
        ).fetchone()[0]
    subscription.close()
    quiet.close()
    assert listening == 0


@postgres
def test_a_notify_option_that_is_not_a_flag_is_refused(pg_url: str) -> None:
    with pytest.raises(StoreError, match="notify='maybe' is not true or false"):
        open_store(_with(pg_url, "notify=maybe"))


@postgres
def test_a_subscription_reconnects_after_its_connection_is_killed(pg_url: str) -> None:
    listener = open_store(pg_url)
    assert isinstance(listener, PostgresStore)
    calls: list[float] = []
    heard = threading.Event()

    def on_work() -> None:
        calls.append(time.monotonic())
        heard.set()

    subscription = listener.subscribe(on_work)
    name = f"durableflow-listen-{_schema(pg_url)}"
    with _conn(pg_url) as conn:
        (killed,) = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (name,),
        ).fetchone()
    assert killed == 1
    assert heard.wait(5.0)  # the reconnection itself calls on_work for what it missed
    heard.clear()
    other = open_store(pg_url)
    start(other)
    assert heard.wait(5.0)
    subscription.close()
    listener.close()
    other.close()


@postgres
def test_a_subscription_can_be_closed_from_its_own_callback(pg_url: str) -> None:
    listener = open_store(pg_url)
    other = open_store(pg_url)
    assert isinstance(listener, PostgresStore)
    closed = threading.Event()
    subscription: Any = None

    def on_work() -> None:
        subscription.close()
        closed.set()

    subscription = listener.subscribe(on_work)
    start(other)
    assert closed.wait(2.0)
    listener.close()
    other.close()


app = df.App()


@app.orchestrator
def greet(ctx: df.OrchestrationContext, name: str) -> Generator[Any, Any, str]:
    return f"hello {name}"
    yield  # a generator without a durable call


class Watched:
    """A real store that says when the worker has looked for steps and found none."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.idle = threading.Event()

    def lock_orchestrations(self, *a: Any, **kw: Any) -> Any:
        items = self._store.lock_orchestrations(*a, **kw)
        if not items:
            self.idle.set()
        return items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@postgres
def test_an_idle_worker_is_woken_by_an_instance_another_process_starts(pg_url: str) -> None:
    store = Watched(open_store(pg_url))
    client = Client(open_store(pg_url))  # another store object, as in another process
    began = time.monotonic()
    with Worker(app, store, poll_interval=60):  # type: ignore[arg-type]
        assert store.idle.wait(10)
        iid = client.start_new("greet", input="pg")
        state = client.wait_for_completion(iid, timeout=30)
    assert (state.runtime_status, state.output) == (RuntimeStatus.COMPLETED, "hello pg")
    assert time.monotonic() - began < 30  # not the 60 s poll: the notification woke it
    client.store.close()
    store.close()


@postgres
@pytest.mark.parametrize(
    ("payload", "calls"),
    [
        ("writer:o", ["mail"]),
        ("writer:a", ["activities"]),
        ("writer:*", ["mail", "activities"]),
        ("writer", ["mail", "activities"]),  # no kind: as written before kinds existed
    ],
)
def test_a_notification_calls_the_callback_for_its_kind_of_work(
    pg_url: str, payload: str, calls: list[str]
) -> None:
    listener = open_store(pg_url)
    heard: list[str] = []
    done = threading.Semaphore(0)

    def on(name: str) -> Any:
        def call() -> None:
            heard.append(name)
            done.release()

        return call

    subscription = listener.subscribe(on("mail"), on("activities"))
    conn = _conn(pg_url)
    channel = f"durableflow.{_schema(pg_url)}"
    conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
    # Delivered and called in order, after the first one's calls: so a call too many or
    # too few for the first one shows in the first calls heard.
    conn.execute("SELECT pg_notify(%s, %s)", (channel, "writer:*"))
    expected = [*calls, "mail", "activities"]
    for _ in expected:
        assert done.acquire(timeout=5.0)
    assert heard[: len(expected)] == expected
    subscription.close()
    listener.close()
    conn.close()
