"""``Runtime``: a store, an embedded worker and a client, as one context manager."""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType

from durableflow.core.app import App
from durableflow.runtime.client import Client
from durableflow.runtime.clock import Clock, SystemClock
from durableflow.runtime.completions import Completions
from durableflow.runtime.store import open_store
from durableflow.runtime.store.base import Store
from durableflow.runtime.worker import Worker


class Runtime:
    """Runs ``app`` on worker threads in this process.

    Example::

        with Runtime(app, "sqlite:///durable.db") as rt:
            iid = rt.client.start_new("hello", input="world")
            print(rt.client.wait_for_completion(iid).output)

    Args:
        app: the registry to run.
        store: a store URL or a ``Store``.
        clock: inject a ``FakeClock`` to drive durable timers in tests.
        activity_concurrency: activity threads.
        lease: work-item lease length.
    """

    def __init__(
        self,
        app: App,
        store: str | Store = "sqlite:///durable.db",
        *,
        clock: Clock | None = None,
        activity_concurrency: int = 4,
        lease: timedelta = timedelta(seconds=30),
        poll_interval: float = 0.05,
    ) -> None:
        self.app = app
        self.store: Store = open_store(store) if isinstance(store, str) else store
        self.clock: Clock = clock or SystemClock()
        completions = Completions()
        self.worker = Worker(
            app,
            self.store,
            clock=self.clock,
            activity_concurrency=activity_concurrency,
            lease=lease,
            poll_interval=poll_interval,
            on_end=completions.ended,
        )
        self.client = Client(
            self.store,
            app=app,
            clock=self.clock,
            on_change=self.worker.wake,
            completions=completions,
        )
        self._owns_store = isinstance(store, str)

    def start(self) -> Runtime:
        """Start the embedded worker."""
        self.worker.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker (finishing in-flight work) and close the store if we opened it."""
        self.worker.stop(timeout)
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["Runtime", "SystemClock"]
