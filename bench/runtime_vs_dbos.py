"""durableflow vs DBOS, both on SQLite: activities (steps) per second on the same workloads.

Runs, in one process, the same workloads on durableflow (``df.Runtime`` on
``sqlite:///...``) and on DBOS (PyPI ``dbos``, ``system_database_url=sqlite:///...``) and
prints steps/s for both and the ratio:

1. a sequential chain of 200 no-op activities in one workflow;
2. a fan-out of 200 no-op activities in one workflow;
3. 500 instances of a 3-activity workflow, started all at once.

It also prints the per-step cost of a 10-step and a 1,000-step chain (the ratio shows
whether an instance's cost grows linearly with its history).

Both systems run with the same SQLite durability: WAL journal and the same ``synchronous``
level (``FULL`` by default, durableflow's default: every committed step is fsynced).
DBOS does not set a journal mode on SQLite (so a fresh file gets SQLite's rollback
journal) and leaves ``synchronous`` at SQLite's default (``FULL``); this bench switches
DBOS's connections to WAL and sets the same ``synchronous`` level through a SQLAlchemy
``connect`` listener, and prints what the connections report back.

Every cell (system x workload) gets a fresh database file in a temporary directory, a
warm-up run of a smaller version of the workload, then up to ``--repeat`` timed runs
(the best is reported) within a per-cell time budget. For each workload both systems
are open at once and their timed runs alternate, so load from elsewhere on the machine
hits both alike. Wall time runs from the first start call until every instance has
completed.

Usage::

    .venv/bin/python bench/runtime_vs_dbos.py [--repeat 3] [--synchronous FULL]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import durableflow as df

if TYPE_CHECKING:
    from dbos import DBOS

STEPS_TARGET = 3.0
"""durableflow should run at least this many times as many steps/s as DBOS."""
SCALING_TARGET = 1.5
"""Per-step cost at 1,000 steps should be at most this multiple of that at 10 steps."""

ACTIVITY_CONCURRENCY = 4
"""durableflow activity threads: the ``Runtime`` default, what a user gets unless they tune."""
POLL_INTERVAL = 0.05
"""durableflow idle poll (the default); an in-process ``start_new`` wakes the worker anyway."""
WAIT_POLL = 0.001
"""How often the bench polls an unfinished durableflow instance (fixed, no back-off)."""
DBOS_QUEUE = "bench_fanout"
DBOS_QUEUE_POLL = 0.01
"""DBOS queue polling interval; the default (1 s) would add up to a second per fan-out."""

REPO = Path(__file__).resolve().parent.parent

Kind = Literal["chain", "fanout"]


@dataclass(frozen=True, slots=True)
class Shape:
    """``instances`` workflows, each running ``width`` no-op activities in a chain or fan-out."""

    label: str
    kind: Kind
    width: int
    instances: int = 1
    repeat_factor: int = 1
    """Multiplies ``--repeat``: short runs are cheap and noisier, so they get more tries."""

    @property
    def steps(self) -> int:
        """Activities executed by one run of this shape."""
        return self.width * self.instances

    def warmup(self) -> Shape:
        """A smaller version of this shape, run once before measuring."""
        return Shape(
            f"{self.label} (warm-up)",
            self.kind,
            min(self.width, 20),
            min(self.instances, 20),
        )


WORKLOADS: tuple[Shape, ...] = (
    Shape("sequential chain, 200 activities", "chain", 200),
    Shape("fan-out, 200 activities", "fanout", 200),
    Shape("500 instances x 3 activities", "chain", 3, instances=500),
)
SCALING: tuple[Shape, ...] = (
    Shape("chain, 10 activities", "chain", 10, repeat_factor=5),
    Shape("chain, 1,000 activities", "chain", 1000),
)


class Runner(Protocol):
    """One system, opened on one fresh database file."""

    def run(self, shape: Shape) -> float:
        """Run ``shape`` once; return wall seconds from first start to last completion."""
        ...


class System(Protocol):
    """A durable-execution system under test."""

    name: str

    def session(self, db_path: Path) -> contextlib.AbstractContextManager[Runner]:
        """Start the system on a new database file; shut it down cleanly on exit."""
        ...


@dataclass(slots=True)
class Cell:
    """The outcome of one system on one shape."""

    best: float | None = None
    runs: int = 0
    error: str | None = None

    def steps_per_s(self, shape: Shape) -> float | None:
        """Throughput of the best run."""
        return None if self.best is None else shape.steps / self.best

    def ms_per_step(self, shape: Shape) -> float | None:
        """Per-step wall cost of the best run, in milliseconds."""
        return None if self.best is None else self.best / shape.steps * 1000


# -- durableflow -----------------------------------------------------------------------------

df_app = df.App()


@df_app.activity
def noop(x: int) -> int:
    """A no-op activity: returns its input."""
    return x


@df_app.orchestrator
def chain(ctx: df.OrchestrationContext, n: int) -> Generator[Any, Any, int]:
    """``n`` activities, one after the other; returns ``n``."""
    for i in range(n):
        yield ctx.call_activity("noop", i)
    return n


@df_app.orchestrator
def fan_out(ctx: df.OrchestrationContext, n: int) -> Generator[Any, Any, int]:
    """``n`` activities scheduled at once and awaited with ``task_all``; returns ``n``."""
    results = yield ctx.task_all([ctx.call_activity("noop", i) for i in range(n)])
    return len(results)


def _wait_all(client: df.Client, ids: Sequence[str], timeout: float) -> list[Any]:
    """Wait until every instance is terminal, polling every ``WAIT_POLL`` seconds.

    ``Client.wait_for_completion`` backs its polling off towards 0.5 s, which would add
    up to half a second to a run; a fixed interval keeps the timing error under 1 ms.
    """
    deadline = time.monotonic() + timeout
    states = []
    for iid in ids:
        while True:
            state = client.get_status(iid, show_input=False)
            if state is not None and state.runtime_status.is_terminal:
                states.append(state)
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"durableflow instance {iid} not done after {timeout}s")
            time.sleep(WAIT_POLL)
    return states


class DurableflowRunner:
    """Runs shapes on an open ``df.Runtime``."""

    def __init__(self, rt: df.Runtime) -> None:
        self.rt = rt

    def run(self, shape: Shape) -> float:
        """Start ``shape.instances`` instances, wait for all; return wall seconds."""
        client = self.rt.client
        name = "chain" if shape.kind == "chain" else "fan_out"
        t0 = time.perf_counter()
        ids = [client.start_new(name, input=shape.width) for _ in range(shape.instances)]
        states = _wait_all(client, ids, timeout=300)
        elapsed = time.perf_counter() - t0
        for state in states:
            if state.runtime_status is not df.RuntimeStatus.COMPLETED or state.output != (
                shape.width
            ):
                raise RuntimeError(f"durableflow run went wrong: {state}")
        return elapsed


class Durableflow:
    """durableflow with its embedded worker (``df.Runtime``) on one SQLite file."""

    name = "durableflow"

    def __init__(self, synchronous: str) -> None:
        self.synchronous = synchronous
        self.observed: set[str] = set()

    @contextlib.contextmanager
    def session(self, db_path: Path) -> Iterator[Runner]:
        """Open a ``df.Runtime`` on ``db_path``; stop it (joining its threads) on exit."""
        url = f"sqlite:///{db_path}?synchronous={self.synchronous}"
        with df.Runtime(
            df_app, url, activity_concurrency=ACTIVITY_CONCURRENCY, poll_interval=POLL_INTERVAL
        ) as rt:
            level = getattr(rt.store, "synchronous", "?")
            yield DurableflowRunner(rt)
        with contextlib.closing(sqlite3.connect(db_path)) as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        self.observed.add(f"journal_mode={mode} synchronous={level}")


# -- DBOS ------------------------------------------------------------------------------------

SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
FanoutMode = Literal["queue", "start_workflow"]


@dataclass(slots=True)
class _DbosFunctions:
    """The DBOS workflows of this bench, registered once per process."""

    chain: Callable[[int], int]
    fanout_queue: Callable[[int], int]
    fanout_start: Callable[[int], int]


_dbos_functions: _DbosFunctions | None = None


def _register_dbos(dbos_cls: type[DBOS]) -> _DbosFunctions:
    """Decorate the DBOS versions of the workloads (DBOS keeps a global registry)."""
    global _dbos_functions
    if _dbos_functions is not None:
        return _dbos_functions

    @dbos_cls.step()
    def dbos_noop(x: int) -> int:
        return x

    @dbos_cls.workflow()
    def dbos_chain(n: int) -> int:
        for i in range(n):
            dbos_noop(i)
        return n

    @dbos_cls.workflow()
    def dbos_one_step(i: int) -> int:
        return int(dbos_noop(i))

    @dbos_cls.workflow()
    def dbos_fanout_queue(n: int) -> int:
        # DBOS's documented fan-out (queue tutorial): enqueue one child workflow per
        # task, then wait for every handle.
        handles = [dbos_cls.enqueue_workflow(DBOS_QUEUE, dbos_one_step, i) for i in range(n)]
        return len([h.get_result() for h in handles])

    @dbos_cls.workflow()
    def dbos_fanout_start(n: int) -> int:
        handles = [dbos_cls.start_workflow(dbos_one_step, i) for i in range(n)]
        return len([h.get_result() for h in handles])

    _dbos_functions = _DbosFunctions(dbos_chain, dbos_fanout_queue, dbos_fanout_start)
    return _dbos_functions


class DbosRunner:
    """Runs shapes on a launched DBOS."""

    def __init__(self, dbos_cls: type[DBOS], fns: _DbosFunctions, fanout: FanoutMode) -> None:
        self.dbos_cls = dbos_cls
        self.fns = fns
        self.fanout = fanout

    def run(self, shape: Shape) -> float:
        """Start ``shape.instances`` workflows with ``DBOS.start_workflow``, wait for all."""
        if shape.kind == "chain":
            wf = self.fns.chain
        elif self.fanout == "queue":
            wf = self.fns.fanout_queue
        else:
            wf = self.fns.fanout_start
        t0 = time.perf_counter()
        handles = [self.dbos_cls.start_workflow(wf, shape.width) for _ in range(shape.instances)]
        results = [h.get_result() for h in handles]
        elapsed = time.perf_counter() - t0
        if results != [shape.width] * shape.instances:
            raise RuntimeError(f"DBOS run went wrong: {results[:5]}...")
        return elapsed


class Dbos:
    """DBOS (PyPI ``dbos``) with a SQLite system database, in this process."""

    name = "DBOS"

    def __init__(self, synchronous: str, fanout: FanoutMode) -> None:
        import dbos  # deferred: the durableflow side still runs if DBOS is missing
        import sqlalchemy

        self.version = getattr(dbos, "__version__", None) or _dist_version("dbos")
        self.dbos_cls: type[DBOS] = dbos.DBOS
        self.sqlalchemy = sqlalchemy
        self.synchronous = synchronous
        self.fanout: FanoutMode = fanout
        self.observed: set[str] = set()
        self.fns = _register_dbos(self.dbos_cls)

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        """Give each of DBOS's SQLite connections the same durability as durableflow's."""
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        # WAL is persistent in the file; synchronous is per connection.
        dbapi_conn.execute("PRAGMA journal_mode = WAL")
        dbapi_conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
        level = dbapi_conn.execute("PRAGMA synchronous").fetchone()[0]
        self.observed.add(f"journal_mode={mode} synchronous={SYNCHRONOUS_NAMES.get(level, level)}")

    @contextlib.contextmanager
    def session(self, db_path: Path) -> Iterator[Runner]:
        """``DBOS(config=...)`` + ``DBOS.launch()`` on ``db_path``; ``DBOS.destroy()`` on exit."""
        engine_cls = self.sqlalchemy.engine.Engine
        event = self.sqlalchemy.event
        event.listen(engine_cls, "connect", self._on_connect)
        try:
            self.dbos_cls(
                config={
                    "name": "durableflow-bench",
                    "system_database_url": f"sqlite:///{db_path}",
                    "log_level": "WARNING",
                }
            )
            try:
                self.dbos_cls.launch()
                if self.fanout == "queue":
                    self.dbos_cls.register_queue(DBOS_QUEUE, polling_interval_sec=DBOS_QUEUE_POLL)
                yield DbosRunner(self.dbos_cls, self.fns, self.fanout)
            finally:
                self.dbos_cls.destroy()
        finally:
            event.remove(engine_cls, "connect", self._on_connect)


# -- measuring -------------------------------------------------------------------------------


def measure(
    systems: Sequence[System], shape: Shape, workdir: Path, repeat: int, budget: float, tag: str
) -> dict[str, Cell]:
    """Open each system on a fresh file, warm each up, then alternate their timed runs.

    Runs alternate between the systems, and which goes first alternates each round, so a
    burst of load from elsewhere on the machine lands on both rather than on one. A system
    stops starting new runs after ``repeat`` runs or ``budget`` seconds of runs; the best
    run is kept. A failing system gets an error in its cell; the others go on.
    """
    cells = {system.name: Cell() for system in systems}
    times: dict[str, list[float]] = {system.name: [] for system in systems}
    runners: dict[str, Runner] = {}
    exits: list[tuple[str, contextlib.AbstractContextManager[Runner]]] = []

    def fail(name: str, exc: Exception) -> None:
        cells[name].error = cells[name].error or f"{type(exc).__name__}: {exc}"
        runners.pop(name, None)

    try:
        for system in systems:
            session = system.session(workdir / f"{system.name.lower()}-{tag}.db")
            try:
                runner = session.__enter__()
            except Exception as exc:
                fail(system.name, exc)
                continue
            exits.append((system.name, session))
            try:
                runner.run(shape.warmup())
                runners[system.name] = runner
            except Exception as exc:
                fail(system.name, exc)
        for round_no in range(repeat * shape.repeat_factor):
            order = list(runners) if round_no % 2 == 0 else list(reversed(runners))
            for name in order:
                if times[name] and sum(times[name]) >= budget:
                    continue
                try:
                    times[name].append(runners[name].run(shape))
                except Exception as exc:
                    fail(name, exc)
    finally:
        for name, session in reversed(exits):
            try:
                session.__exit__(None, None, None)
            except Exception as exc:
                fail(name, exc)
    for name, cell in cells.items():
        if times[name] and cell.error is None:
            cell.best, cell.runs = min(times[name]), len(times[name])
    return cells


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown pipe table with padded columns."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


@dataclass(slots=True)
class Results:
    """Cells by (system name, shape label)."""

    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def get(self, system: str, shape: Shape) -> Cell:
        """The cell, or an empty one if the system did not run."""
        return self.cells.get((system, shape.label), Cell())


def throughput_table(results: Results, dbos_name: str) -> str:
    """workload | durableflow steps/s | DBOS steps/s | ratio | target met?"""
    rows = []
    for shape in WORKLOADS:
        mine = results.get("durableflow", shape).steps_per_s(shape)
        theirs = results.get(dbos_name, shape).steps_per_s(shape)
        ratio = None if mine is None or theirs is None else mine / theirs
        met = "n/a" if ratio is None else ("yes" if ratio >= STEPS_TARGET else "no")
        rows.append(
            [
                shape.label,
                _fmt(mine, ",.0f"),
                _fmt(theirs, ",.0f"),
                "n/a" if ratio is None else f"{ratio:.2f}x",
                f"{met} (>= {STEPS_TARGET:g}x)",
            ]
        )
    header = ["workload", "durableflow steps/s", "DBOS steps/s", "ratio", "target met?"]
    return _table(header, rows)


def scaling_table(results: Results, dbos_name: str) -> str:
    """Per-step cost of short and long chains, and their ratio, for both systems."""
    short, long_ = SCALING
    rows = []
    ratios: dict[str, float | None] = {}
    for system in ("durableflow", dbos_name):
        a = results.get(system, short).ms_per_step(short)
        b = results.get(system, long_).ms_per_step(long_)
        ratios[system] = None if a is None or b is None else b / a
    for shape in SCALING:
        rows.append(
            [
                f"{shape.label}: ms/step",
                _fmt(results.get("durableflow", shape).ms_per_step(shape), ".3f"),
                _fmt(results.get(dbos_name, shape).ms_per_step(shape), ".3f"),
            ]
        )
    mine = ratios["durableflow"]
    met = "n/a" if mine is None else ("yes" if mine <= SCALING_TARGET else "no")
    rows.append(
        [
            f"ratio 1,000-step / 10-step (target <= {SCALING_TARGET:g})",
            f"{_fmt(mine, '.2f')} ({met})",
            f"{_fmt(ratios[dbos_name], '.2f')} (context)",
        ]
    )
    return _table(["chain", "durableflow", "DBOS"], rows)


# -- environment -----------------------------------------------------------------------------


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _git_state() -> str:
    """The commit under test, and whether durableflow/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "durableflow"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}" + (" + uncommitted changes in durableflow/" if dirty else "")


def _filesystem(path: Path) -> str:
    """The filesystem type ``path`` lives on (fsync is free on tmpfs, which flatters both)."""
    best, fstype = "", "?"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                parts = line.split()
                mount = parts[1]
                inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, fstype = mount, parts[2]
    except OSError:
        return "?"
    return fstype


def _load() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=3, help="timed runs per cell (best kept)")
    p.add_argument(
        "--budget", type=float, default=25.0, help="seconds per cell after which no new run starts"
    )
    p.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous level for both systems (both in WAL mode)",
    )
    p.add_argument(
        "--dbos-fanout",
        choices=["queue", "start_workflow"],
        default="queue",
        help="how DBOS fans out: child workflows on a DBOS queue, or DBOS.start_workflow",
    )
    p.add_argument("--dir", type=Path, default=None, help="where the temporary databases go")
    p.add_argument("--skip-dbos", action="store_true", help="run the durableflow side only")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every cell, print the environment, the tables and the settings."""
    args = parse_args(argv)
    t_start = time.monotonic()
    ours = Durableflow(args.synchronous)
    theirs: Dbos | None = None
    dbos_problem = "skipped (--skip-dbos)" if args.skip_dbos else None
    if not args.skip_dbos:
        try:
            theirs = Dbos(args.synchronous, args.dbos_fanout)
        except Exception as exc:
            dbos_problem = f"DBOS could not be loaded: {type(exc).__name__}: {exc}"

    with tempfile.TemporaryDirectory(prefix="durableflow-bench-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        print("durableflow vs DBOS on SQLite")
        print(f"  date          {now}")
        print(
            f"  machine       {platform.machine()}, {os.cpu_count()} cores, "
            f"{platform.system()} {platform.release()}, load avg {_load()} at start"
        )
        print(
            f"  software      Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, durableflow {df.__version__} (git {_git_state()}), "
            f"dbos {theirs.version if theirs else 'n/a'}"
        )
        print(f"  databases     fresh file per cell in {workdir} ({_filesystem(workdir)})")
        print(
            f"  durability    both: journal_mode=WAL, synchronous={args.synchronous} "
            "(as each system applies it; see docs/bench-runtime.md)"
        )
        print(
            f"  measuring     warm-up, then best of up to {args.repeat} runs per cell "
            f"(x5 for the 10-step chain), {args.budget:g}s budget per cell; the two "
            "systems' runs alternate"
        )
        sys.stdout.flush()

        results = Results()
        systems: list[System] = [ours] if theirs is None else [ours, theirs]
        for index, shape in enumerate((*WORKLOADS, *SCALING)):
            cells = measure(systems, shape, workdir, args.repeat, args.budget, f"w{index}")
            for system in systems:
                cell = cells[system.name]
                results.cells[(system.name, shape.label)] = cell
                if cell.error or cell.best is None:
                    print(f"  ! {system.name}, {shape.label}: {cell.error}")
                    if system is theirs and dbos_problem is None:
                        dbos_problem = f"DBOS failed on '{shape.label}': {cell.error}"
                else:
                    print(
                        f"  . {system.name:<11} {shape.label:<34} best {cell.best:8.3f}s "
                        f"of {cell.runs}  {shape.steps / cell.best:9,.0f} steps/s"
                    )
                sys.stdout.flush()

    print()
    print(throughput_table(results, "DBOS"))
    print()
    print(scaling_table(results, "DBOS"))
    print()
    print("settings")
    print(
        f"  durableflow   df.Runtime(app, 'sqlite:///...?synchronous={args.synchronous}', "
        f"activity_concurrency={ACTIVITY_CONCURRENCY}, poll_interval={POLL_INTERVAL}); "
        f"client.start_new per instance; completion polled every {WAIT_POLL * 1000:g} ms"
    )
    print(f"                connections: {', '.join(sorted(ours.observed)) or 'n/a'}")
    if theirs is not None:
        fanout = (
            f"parent workflow enqueues 200 one-step child workflows on DBOS queue "
            f"'{DBOS_QUEUE}' (no concurrency limit, polling_interval_sec={DBOS_QUEUE_POLL}) "
            "and waits on their handles (DBOS queue-tutorial pattern)"
            if args.dbos_fanout == "queue"
            else "parent workflow starts 200 one-step child workflows with "
            "DBOS.start_workflow and waits on their handles"
        )
        print(
            "  DBOS          DBOS(config={'system_database_url': 'sqlite:///...'}), defaults "
            "otherwise (unbounded executor threads); DBOS.start_workflow per instance, "
            "handle.get_result()"
        )
        print(f"                fan-out: {fanout}")
        print(f"                connections: {', '.join(sorted(theirs.observed)) or 'n/a'}")
        print(
            "                (DBOS on its own sets no journal mode, i.e. a rollback journal, "
            "and leaves synchronous at SQLite's default, FULL)"
        )
    if dbos_problem:
        print(f"  DBOS not measured: {dbos_problem}")
    print(f"load avg {_load()} at end; total {time.monotonic() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
