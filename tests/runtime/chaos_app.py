"""The app the chaos and multi-host tests run in worker processes.

Every activity run appends a line to a file of its process's own (``CHAOS_RUNS``: a
directory), so a test can tell runs apart from recorded results: re-runs are allowed after a
crash, a recorded result must come from one of them, and only one per task.

A worker started with ``CHAOS_HOLD_REQUEST`` set holds still in the first step of an
instance it begins after that file appears, while it holds that step's lease: it writes
the instance id to ``<request>.held``, then (``CHAOS_HOLD=pause``, the default) stops
itself with SIGSTOP until the test sends SIGCONT, or (``CHAOS_HOLD=wait``) waits for the
file ``<request>.go`` while the test cuts its network. Either way the hold lands between
the lease and the commit by construction, not by luck (a signal or a cut from outside
lands there only sometimes), and the commit that follows is a late one.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from typing import Any

import durableflow as df

app = df.App()

_runs_fd: int | None = None
_runs_lock = threading.Lock()


def _record_run(line: list[Any]) -> None:
    """Append one line to this process's run file (O_APPEND: whole lines, even if killed)."""
    global _runs_fd
    folder = os.environ.get("CHAOS_RUNS")
    if not folder:
        return
    with _runs_lock:
        if _runs_fd is None:
            path = os.path.join(folder, f"{os.getpid()}.jsonl")
            _runs_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(_runs_fd, (json.dumps(line) + "\n").encode())


def _hold_if_asked(instance_id: str) -> None:
    """Hold still once, if this worker was asked to (see the module doc)."""
    request = os.environ.get("CHAOS_HOLD_REQUEST")
    if not request:
        return
    try:
        os.rename(request, request + ".taken")
    except FileNotFoundError:
        return
    with open(request + ".held", "w") as f:
        f.write(instance_id)
    if os.environ.get("CHAOS_HOLD", "pause") == "pause":
        os.kill(os.getpid(), signal.SIGSTOP)
        return
    deadline = time.monotonic() + 120
    while not os.path.exists(request + ".go") and time.monotonic() < deadline:
        time.sleep(0.01)


@app.activity
def square(item: list[Any]) -> dict[str, Any]:
    """Square ``item[1]`` (``item`` is ``[instance id, index]``); the result names its run."""
    instance_id, index = item
    run = uuid.uuid4().hex
    _record_run([instance_id, index, run, os.getpid()])
    return {"value": index * index, "run": run}


@app.orchestrator
def fan_out(ctx: df.OrchestrationContext, n: int) -> Any:
    """``n`` squares in parallel, then their sum."""
    if not ctx.is_replaying:
        # Only an instance's first step starts the generator live: every later step either
        # resumes the cached generator past this line or replays it.
        _hold_if_asked(ctx.instance_id)
    results = yield ctx.task_all(
        [ctx.call_activity(square, [ctx.instance_id, i]) for i in range(n)]
    )
    return sum(r["value"] for r in results)


def expected(n: int) -> int:
    """What ``fan_out`` returns for ``n``."""
    return sum(i * i for i in range(n))
