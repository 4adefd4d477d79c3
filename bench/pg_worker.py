"""One worker process for ``bench/pg_scale.py``: the bench's app on a store URL.

Usage: python bench/pg_worker.py STORE_URL [--no-notify] [--activity-concurrency N]

``--no-notify`` opens the worker's store with ``?notify=false``, so that it finds new work
by polling alone (the fallback where notifications cannot work). Prints ``running`` once
started; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging

from runtime_systems import ACTIVITY_CONCURRENCY, POLL_INTERVAL, df_app

from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker


def main() -> None:
    """Run the worker until SIGTERM."""
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("--no-notify", action="store_true")
    p.add_argument("--activity-concurrency", type=int, default=ACTIVITY_CONCURRENCY)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)  # errors only: SIGTERM at each cell's end is normal
    url = args.store
    if args.no_notify:
        url += ("&" if "?" in url else "?") + "notify=false"
    store = open_store(url)
    worker = Worker(
        df_app,
        store,
        activity_concurrency=args.activity_concurrency,
        poll_interval=POLL_INTERVAL,
    )
    worker.run_forever(on_ready=lambda: print("running", flush=True))


if __name__ == "__main__":
    main()
