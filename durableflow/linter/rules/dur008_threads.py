"""DUR008: threads, processes, executors and subprocesses."""

from __future__ import annotations

from durableflow.linter.rules.base import BannedApiRule, orchestrator_example

__all__ = ["Threads"]


class Threads(BannedApiRule):
    """Starting threads, processes, executors or subprocesses from orchestrator code.

    Work started outside the durable task model is not recorded: it runs again on every replay, it
    finishes in an order no history fixes, and a crash loses it. Fan work out to activities with
    ``ctx.task_all`` instead; the runtime runs them in parallel and records each result.
    """

    CODE = "DUR008"
    NAME = "threads"
    MESSAGE = "threads/processes/subprocesses run outside history; fan out activities instead"
    VALID = (
        orchestrator_example(
            'results = yield ctx.task_all([ctx.call_activity("work", x) for x in data])\n'
            "return results"
        ),
    )
    INVALID = (
        orchestrator_example(
            "with ThreadPoolExecutor() as pool:\n    return list(pool.map(str, data))",
            "from concurrent.futures import ThreadPoolExecutor",
        ),
        orchestrator_example(
            'return subprocess.run(["ls"], capture_output=True).stdout', "import subprocess"
        ),
        orchestrator_example(
            "t = threading.Thread(target=print)\nt.start()\nreturn 1", "import threading"
        ),
    )
