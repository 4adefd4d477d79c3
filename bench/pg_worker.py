"""One worker process for ``bench/pg_scale.py``: the bench's app on a store URL.

Usage: python bench/pg_worker.py STORE_URL [--no-notify] [--activity-concurrency N]

``--no-notify`` hides the store's ``subscribe`` hook from the worker, so that it finds new
work by polling alone (the fallback when notifications are lost); the store itself, and
what it writes, are unchanged. Prints ``running`` once started; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from runtime_systems import ACTIVITY_CONCURRENCY, POLL_INTERVAL, df_app

from durableflow.runtime.store import open_store
from durableflow.runtime.store.base import NoNotifications
from durableflow.runtime.worker import Worker


class PollingOnly:
    """``store`` with a ``subscribe`` that never calls back (every other call passes)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def subscribe(self, on_work: Any) -> NoNotifications:
        """Ignore ``on_work``: the worker polls."""
        return NoNotifications()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def main() -> None:
    """Run the worker until SIGTERM."""
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("--no-notify", action="store_true")
    p.add_argument("--activity-concurrency", type=int, default=ACTIVITY_CONCURRENCY)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)  # errors only: SIGTERM at each cell's end is normal
    store: Any = open_store(args.store)
    if args.no_notify:
        store = PollingOnly(store)
    worker = Worker(
        df_app,
        store,
        activity_concurrency=args.activity_concurrency,
        poll_interval=POLL_INTERVAL,
    )
    worker.run_forever(on_ready=lambda: print("running", flush=True))


if __name__ == "__main__":
    main()
