"""A worker process that logs every orchestration step it runs (tests read the logs).

Usage: python -m tests.runtime.traced_worker STORE_URL TRACE_FILE
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import timedelta

from durableflow.runtime.store import open_store
from durableflow.runtime.worker import StepTrace, Worker
from tests.runtime.crash_app import app


def main() -> None:
    """Run until SIGTERM, appending one JSON line per step to TRACE_FILE."""
    store_url, trace_path = sys.argv[1], sys.argv[2]
    lock = threading.Lock()
    out = open(trace_path, "a", buffering=1)  # noqa: SIM115 - open for the process lifetime

    def record(t: StepTrace) -> None:
        with lock:
            out.write(
                json.dumps([t.instance_id, t.owner, t.started_ns, t.ended_ns, t.committed]) + "\n"
            )

    worker = Worker(
        app,
        open_store(store_url),
        activity_concurrency=2,
        lease=timedelta(seconds=5),
        on_step=record,
    )
    worker.run_forever(on_ready=lambda: print("running", flush=True))
    out.close()


if __name__ == "__main__":
    main()
