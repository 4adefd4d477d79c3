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
        poll_interval: seconds between looks for work when idle (new work wakes it early).
        activity_timeout: per-attempt timeout (``timedelta`` or seconds) of activities whose
            ``call_activity`` gives none; ``None``: no limit.
        drain_timeout: seconds :meth:`stop` (and leaving the ``with`` block) lets in-flight
            work finish before giving it up; a hung activity never blocks longer.
        retain: purge instances that ended longer ago than this, periodically, in small
            batches (``None``: keep everything).
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
        activity_timeout: timedelta | float | None = None,
        drain_timeout: float = 10.0,
        retain: timedelta | None = None,
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
            activity_timeout=activity_timeout,
            retain=retain,
        )
        self.drain_timeout = drain_timeout
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

    def stop(self, timeout: float | None = None) -> None:
        """Stop the worker and close the store if we opened it.

        In-flight work gets ``timeout`` seconds (default: ``drain_timeout``) to finish;
        what is still running then is given up, and its leases are released so it runs
        again at once elsewhere (see :meth:`Worker.stop`).
        """
        self.worker.stop(self.drain_timeout if timeout is None else timeout)
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
