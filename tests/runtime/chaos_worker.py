"""A worker process for the chaos and multi-host tests: it logs every step it runs.

Usage: python -m tests.runtime.chaos_worker STORE_URL TRACE_FILE [--lease SECONDS]

Each orchestration step becomes one JSON line ``[instance, owner, started_ns, ended_ns,
committed]`` (monotonic nanoseconds, the same clock in every process and network
namespace of the machine), appended with O_APPEND so a SIGKILL leaves whole lines. Lease
warnings go to stderr. Prints ``running`` once the worker has started.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from datetime import timedelta

from durableflow.runtime.step_trace import StepTrace
from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker
from tests.runtime.chaos_app import app


def main() -> None:
    """Run until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("trace")
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--activities", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    fd = os.open(args.trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(t: StepTrace) -> None:
        line = [t.instance_id, t.owner, t.started_ns, t.ended_ns, t.committed]
        os.write(fd, (json.dumps(line) + "\n").encode())

    worker = Worker(
        app,
        open_store(args.store),
        activity_concurrency=args.activities,
        lease=timedelta(seconds=args.lease),
        on_step=record,
    )
    worker.run_forever(on_ready=lambda: print("running", flush=True))


if __name__ == "__main__":
    main()
