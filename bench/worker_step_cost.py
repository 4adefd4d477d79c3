"""CPU cost of the worker per step, on one thread, without timing noise from scheduling.

Runs one of the three workloads of ``bench/runtime_vs_dbos.py`` (a chain of activities, a
fan-out, many small instances) on a SQLite file with a worker that starts no threads: the
calling thread alternates ``run_orchestration_batch`` and ``run_one_activity`` until no
work is left, so every run takes the same path through the worker and the store (fixed
instance ids; run it with ``PYTHONHASHSEED=0``). It prints the CPU seconds the workload
took; under ``valgrind --tool=callgrind`` the instruction count is a deterministic figure
of the same cost. Running each workload at two scales and taking the difference removes
the start-up cost (imports, opening the store)::

    for s in 1 2; do PYTHONHASHSEED=0 valgrind --tool=callgrind \\
        --callgrind-out-file=/dev/null .venv/bin/python bench/worker_step_cost.py chain $s \\
        2>&1 | grep Collected; done

Scale ``s`` means ``100 s`` activities in the chain and in the fan-out, and ``250 s``
instances of 3 activities (``s = 2`` is the size ``runtime_vs_dbos.py`` times).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import durableflow as df
from durableflow.runtime import Client
from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker

app = df.App()


@app.activity
def noop(x: int) -> int:
    """A no-op activity: returns its input."""
    return x


@app.orchestrator
def chain(ctx: df.OrchestrationContext, n: int) -> Generator[Any, Any, int]:
    """``n`` activities, one after the other; returns ``n``."""
    for i in range(n):
        yield ctx.call_activity("noop", i)
    return n


@app.orchestrator
def fan_out(ctx: df.OrchestrationContext, n: int) -> Generator[Any, Any, int]:
    """``n`` activities scheduled at once and awaited with ``task_all``; returns ``n``."""
    results = yield ctx.task_all([ctx.call_activity("noop", i) for i in range(n)])
    return len(results)


def workload(kind: str, scale: int) -> tuple[str, int, int]:
    """The orchestrator, its input and how many instances, for ``kind`` at ``scale``."""
    if kind == "chain":
        return "chain", 100 * scale, 1
    if kind == "fanout":
        return "fan_out", 100 * scale, 1
    return "chain", 3, 250 * scale


def drain(worker: Worker) -> None:
    """Step and run on this thread until there is no work left."""
    while worker.run_orchestration_batch(32) + worker.run_one_activity():
        pass


def main(argv: list[str] | None = None) -> int:
    """Run one workload at one scale; print its steps and CPU seconds."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("workload", choices=["chain", "fanout", "instances"])
    p.add_argument("scale", type=int)
    args = p.parse_args(argv)
    name, width, count = workload(args.workload, args.scale)
    with tempfile.TemporaryDirectory(prefix="durableflow-step-cost-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'cost.db'}")
        client = Client(store)
        # No runner threads, so no activity is leased ahead to a local queue.
        worker = Worker(app, store, activity_concurrency=0, owner="bench")
        t0 = time.process_time()
        ids = [client.start_new(name, width, instance_id=f"i{k}") for k in range(count)]
        drain(worker)
        cpu = time.process_time() - t0
        for iid in ids:
            state = client.get_status(iid)
            if state is None or state.runtime_status is not df.RuntimeStatus.COMPLETED:
                raise SystemExit(f"{iid} did not complete: {state}")
        store.close()
    steps = width * count
    print(
        f"{args.workload} scale {args.scale}: {steps} steps, {cpu:.3f}s CPU, "
        f"{1e6 * cpu / steps:.1f} us/step"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
