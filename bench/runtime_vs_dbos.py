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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import durableflow as df

if TYPE_CHECKING:
    pass

from runtime_systems import (  # the bench's own sibling module
    ACTIVITY_CONCURRENCY,
    DBOS_QUEUE,
    DBOS_QUEUE_POLL,
    POLL_INTERVAL,
    REPO,
    SCALING,
    SCALING_TARGET,
    STEPS_TARGET,
    WORKLOADS,
    Cell,
    Dbos,
    Durableflow,
    Runner,
    Shape,
    System,
)

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
        "client.start_new per instance, then client.wait_for_completion on each"
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
