"""The worker subscribes to its store's notifications while it runs, and a notification
makes an idle worker look for work at once instead of after its poll interval: the
orchestration loop for mail, the activity dispatcher for activities."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any

import pytest

import durableflow as df
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client
from durableflow.runtime.store import MemoryStore, Store
from durableflow.runtime.worker import Worker

app = df.App()


@app.activity
def double(x: int) -> int:
    return 2 * x


@app.orchestrator
def twice(ctx: df.OrchestrationContext, x: int) -> Generator[Any, Any, int]:
    y = yield ctx.call_activity("double", x)
    return (yield ctx.call_activity("double", y))


class Listened:
    """A subscription that remembers whether it was closed."""

    def __init__(
        self, on_work: Callable[[], None], on_activities: Callable[[], None] | None
    ) -> None:
        self.on_work = on_work
        self.on_activities = on_activities
        self.closed = False

    def close(self) -> None:
        self.closed = True


class NotifyingStore:
    """A real store that hands out :class:`Listened` subscriptions, and says when the
    worker has looked for orchestration and activity work and found none."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.subscriptions: list[Listened] = []
        self.found_no_steps = threading.Event()
        self.found_no_activities = threading.Event()

    def subscribe(
        self, on_work: Callable[[], None], on_activities: Callable[[], None] | None = None
    ) -> Listened:
        subscription = Listened(on_work, on_activities)
        self.subscriptions.append(subscription)
        return subscription

    def lock_orchestrations(self, *a: Any, **kw: Any) -> Any:
        items = self._store.lock_orchestrations(*a, **kw)
        if not items:
            self.found_no_steps.set()
        return items

    def lock_activity(self, *a: Any, **kw: Any) -> Any:
        item = self._store.lock_activity(*a, **kw)
        if item is None:
            self.found_no_activities.set()
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_the_worker_subscribes_at_start_and_closes_the_subscription_at_stop() -> None:
    store = NotifyingStore(MemoryStore())
    worker = Worker(app, store)  # type: ignore[arg-type]
    worker.start()
    (subscription,) = store.subscriptions
    assert not subscription.closed
    worker.stop()
    assert subscription.closed


def test_a_notification_wakes_an_idle_worker_before_its_poll_interval() -> None:
    real = MemoryStore()
    store = NotifyingStore(real)
    client = Client(real)  # writes the worker is not told of, as from another process
    with Worker(app, store, poll_interval=60):  # type: ignore[arg-type]
        assert store.found_no_steps.wait(10) and store.found_no_activities.wait(10)
        iid = client.start_new("twice", input=3)
        (subscription,) = store.subscriptions
        subscription.on_work()
        state = client.wait_for_completion(iid, timeout=10)
    assert (state.runtime_status, state.output) == (RuntimeStatus.COMPLETED, 12)


@pytest.mark.parametrize("kind", ["activities", "mail"])
def test_a_notification_wakes_only_the_loop_that_takes_its_kind_of_work(kind: str) -> None:
    store = NotifyingStore(MemoryStore())
    looked, other = (
        (store.found_no_activities, store.found_no_steps)
        if kind == "activities"
        else (store.found_no_steps, store.found_no_activities)
    )
    with Worker(app, store, poll_interval=60):  # type: ignore[arg-type]
        assert store.found_no_steps.wait(10) and store.found_no_activities.wait(10)
        store.found_no_steps.clear()
        store.found_no_activities.clear()
        (subscription,) = store.subscriptions
        assert subscription.on_activities is not None
        (subscription.on_activities if kind == "activities" else subscription.on_work)()
        assert looked.wait(10)
        assert not other.is_set()
