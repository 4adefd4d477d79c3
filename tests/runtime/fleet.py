"""Worker processes under test, and the checks run on what they leave behind.

The chaos and multi-host tests start workers (``tests.runtime.chaos_worker``), kill, pause
and cut them off, then read three kinds of records:

* the steps each worker traced (``[instance, owner, started_ns, ended_ns, committed]``),
  from which :func:`check_no_overlap` proves that no instance's committed steps ran in two
  workers at once;
* the activity runs each process wrote (``tests.runtime.chaos_app``), which may repeat;
* the histories in the store, in which :func:`check_histories` requires every task to be
  scheduled once and completed once, with a result that one of those runs produced.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from durableflow.core import history as h
from durableflow.core.errors import StoreLockedError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client
from durableflow.runtime.store.base import ClientStore, InstanceQuery
from tests.runtime.chaos_app import expected

ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float, what: str, interval: float = 0.02) -> T:
    """Poll ``check`` until it returns something truthy (returned), or fail after
    ``timeout`` seconds saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@dataclass
class WorkerProcess:
    """One worker slot: a ``chaos_worker`` process, restarted as often as the test likes.

    Every incarnation appends to the same trace file (its owner name differs) and writes
    its stderr to a log file of its own. ``prefix`` runs the command inside something
    else (``ip netns exec NS``).
    """

    name: str
    store: str
    folder: Path
    lease: float
    env: dict[str, str] = field(default_factory=dict)
    prefix: Sequence[str] = ()
    proc: subprocess.Popen[bytes] | None = None
    incarnations: int = 0
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def trace(self) -> Path:
        """The file every incarnation's steps go to."""
        return self.folder / f"{self.name}.trace.jsonl"

    @property
    def pid(self) -> int:
        """The current incarnation's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Start an incarnation and wait until it is running."""
        self.incarnations += 1
        log = open(self.folder / f"{self.name}.{self.incarnations}.log", "wb")  # noqa: SIM115
        self._logs.append(log)
        cmd = [
            *self.prefix,
            sys.executable,
            "-m",
            "tests.runtime.chaos_worker",
            self.store,
            str(self.trace),
            "--lease",
            str(self.lease),
        ]
        env = {**os.environ, "CHAOS_RUNS": str(self.folder / "runs"), **self.env}
        env["PYTHONPATH"] = str(ROOT)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert b"running" in line, f"{self.name} did not start: see {log.name}"

    def kill(self) -> None:
        """SIGKILL the current incarnation (it releases nothing) and reap it."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP the current incarnation."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the current incarnation."""
        os.kill(self.pid, signal.SIGCONT)

    def is_paused(self) -> bool:
        """Whether the current incarnation is stopped (state ``T`` in /proc)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM the current incarnation and wait for its exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            assert self.proc.stdout is not None
            self.proc.stdout.close()

    def close(self) -> None:
        """Kill whatever still runs and close the log files (cleanup; never raises)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for log in self._logs:
            log.close()

    def log_text(self) -> str:
        """Everything every incarnation wrote to stderr."""
        parts = sorted(self.folder.glob(f"{self.name}.*.log"))
        return "".join(p.read_text(errors="replace") for p in parts)

    def steps(self) -> list[Step]:
        """The steps every incarnation traced so far."""
        return read_steps([self.trace])


@dataclass(frozen=True, slots=True)
class Step:
    """One traced orchestration step."""

    instance: str
    owner: str
    started: int
    ended: int
    committed: bool


def read_steps(paths: Sequence[Path]) -> list[Step]:
    """Every whole line of the trace files (a process killed mid-write leaves at most a
    partial last line, which is skipped)."""
    steps = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            try:
                iid, owner, started, ended, committed = json.loads(line)
            except ValueError:
                continue
            steps.append(Step(iid, owner, started, ended, committed))
    return steps


def read_runs(folder: Path) -> dict[tuple[str, int], list[str]]:
    """Activity runs by ``(instance, index)``: every run id, in no particular order."""
    runs: dict[tuple[str, int], list[str]] = defaultdict(list)
    for path in (folder / "runs").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                iid, index, run, _pid = json.loads(line)
            except ValueError:
                continue
            runs[(iid, index)].append(run)
    return runs


def check_no_overlap(steps: Sequence[Step]) -> int:
    """No two committed steps of one instance ran at once (lease to commit); returns how
    many committed steps were checked."""
    spans: dict[str, list[Step]] = defaultdict(list)
    for s in steps:
        if s.committed:
            spans[s.instance].append(s)
    for iid, mine in spans.items():
        mine.sort(key=lambda s: s.started)
        for a, b in itertools.pairwise(mine):
            assert a.ended <= b.started, (
                f"committed steps of {iid} overlapped: {a.owner} {a.started}-{a.ended} "
                f"and {b.owner} {b.started}-{b.ended}"
            )
    return sum(len(v) for v in spans.values())


def check_histories(
    store: ClientStore, ids: Sequence[str], n: int, runs: dict[tuple[str, int], list[str]]
) -> None:
    """Every instance completed with the right output, and its history holds each of its
    ``n`` tasks scheduled once and completed once, with a result one of its runs made."""
    for iid in ids:
        record = store.get_instance(iid)
        assert record is not None, iid
        assert record.status is RuntimeStatus.COMPLETED, (iid, record.status, record.failure)
        assert record.output == expected(n), (iid, record.output)
        events = store.get_history(iid)
        kinds = [type(e).__name__ for e in events]
        assert kinds.count("ExecutionStarted") == 1, (iid, kinds)
        assert kinds.count("ExecutionCompleted") == 1 and kinds[-1] == "ExecutionCompleted"
        scheduled = [e for e in events if isinstance(e, h.TaskScheduled)]
        completed = [e for e in events if isinstance(e, h.TaskCompleted)]
        index_of = {e.task_id: e.input[1] for e in scheduled}
        assert len(index_of) == len(scheduled) == n, (iid, [e.task_id for e in scheduled])
        assert sorted(index_of.values()) == list(range(n)), iid
        done = [e.task_id for e in completed]
        assert sorted(done) == sorted(index_of), f"{iid}: tasks completed {sorted(done)}"
        for e in completed:
            made = runs.get((iid, index_of[e.task_id]), [])
            assert e.result["run"] in made, f"{iid} task {e.task_id}: result of no run"


def rerun_count(runs: dict[tuple[str, int], list[str]]) -> int:
    """Activity runs beyond the first of each task (allowed: at least once)."""
    return sum(len(v) - 1 for v in runs.values())


class Starter(threading.Thread):
    """Starts ``total`` instances of ``fan_out`` at ``rate`` per second, in the background,
    so that every worker keeps taking first steps while the test does its damage."""

    def __init__(self, client: Client, total: int, n: int, rate: float) -> None:
        super().__init__(daemon=True, name="starter")
        self.client, self.total, self.n, self.rate = client, total, n, rate
        self.ids = [f"chaos-{k:04d}" for k in range(total)]
        self.started = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        began = time.monotonic()
        try:
            for k, iid in enumerate(self.ids):
                delay = began + k / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._start(iid)
                self.started = k + 1
        except BaseException as err:
            self.error = err

    def _start(self, iid: str) -> None:
        # A SQLite store stays locked while a paused worker holds its write lock: wait.
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.start_new("fan_out", input=self.n, instance_id=iid)
                return
            except StoreLockedError:
                if time.monotonic() > deadline:
                    raise

    def done(self) -> bool:
        """Whether every instance has been started (raises what the thread raised)."""
        if self.error is not None:
            raise self.error
        return self.started == self.total


def ask_to_hold(
    request: Path, holding: Callable[[], bool], client: Client, n: int, extra: list[str]
) -> str:
    """Ask the worker started with ``CHAOS_HOLD_REQUEST=request`` to hold still in a step
    (see ``tests.runtime.chaos_app``) and wait until ``holding()``; returns the instance it
    holds. Meanwhile one more instance starts every 50 ms, so that it has a first step to
    hold in even once the scheduled starts are over; their ids are added to ``extra``.
    """
    held = Path(f"{request}.held")
    # A hold asked for earlier left its instance here: only a fresh one answers this ask.
    held.unlink(missing_ok=True)
    request.write_text("")

    def held_or_bait() -> bool:
        if held.exists() and holding():
            return True
        # SQLite stays locked while a worker paused in a write: the next poll tries again.
        with contextlib.suppress(StoreLockedError):
            iid = f"chaos-x{len(extra)}"
            extra.append(client.start_new("fan_out", input=n, instance_id=iid))
        return False

    wait_until(held_or_bait, 30, f"a worker to hold still for {request.name}", interval=0.05)
    return held.read_text()


def completed_count(store: ClientStore, prefix: str = "chaos-") -> int:
    """How many instances have completed so far."""
    query = InstanceQuery(
        statuses=frozenset({RuntimeStatus.COMPLETED}), limit=100_000, instance_id_prefix=prefix
    )
    return len(store.list_instances(query))


def summary(**figures: Any) -> str:
    """One line of figures for the test log (``pytest -s`` or a failure shows them)."""
    return " ".join(f"{k}={v}" for k, v in figures.items())
