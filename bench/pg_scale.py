"""durableflow on PostgreSQL with 1, 2 and 4 worker processes, and DBOS on the same server.

Runs the three workloads of ``bench/runtime_vs_dbos.py`` (a 200-activity chain, a
200-activity fan-out, 500 instances of a 3-activity chain) on one PostgreSQL server:

* durableflow: N worker processes (``bench/pg_worker.py``: ``Worker`` on the bench's app,
  the ``Runtime`` defaults) on a fresh schema; this process only starts instances with a
  ``Client`` and polls every 5 ms for them to end. Wall time runs from the first
  ``start_new`` until the last instance is seen completed;
* DBOS (PyPI ``dbos``): in this process, as DBOS runs, on a fresh database of the same
  server, started with ``DBOS.start_workflow``; wall time to the last ``get_result()``.

Then the idle-to-pickup latency of a new instance: one idle worker process, instances of
an empty chain started one at a time at random idle gaps, latency from the instance's
``created_at`` (the client, before its transaction) to its first step's
``OrchestratorStarted`` time (the worker, when it took the step), with the store's
notifications and without them (``--no-notify``: polling every 50 ms alone).

For each cell it also reports the CPU seconds spent by the worker processes, the
PostgreSQL server's processes and this process, to show what limits scaling.

Usage::

    .venv/bin/python bench/pg_scale.py [--pg URL] [--repeat 2] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from runtime_systems import (
    DBOS_QUEUE,
    DBOS_QUEUE_POLL,
    REPO,
    STEPS_TARGET,
    WORKLOADS,
    DbosRunner,
    Shape,
    dist_version,
    register_dbos,
)

import durableflow as df
from durableflow.core import history as h
from durableflow.runtime import Client
from durableflow.runtime.store import open_store

TICK = os.sysconf("SC_CLK_TCK")
PICKUP_TARGET_MS = 10.0


# -- CPU accounting --------------------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


@dataclass(slots=True)
class Cpu:
    """CPU seconds over one run: worker processes, PostgreSQL, this process."""

    workers: float = 0.0
    server: float = 0.0
    bench: float = 0.0

    def busy(self, wall: float) -> float:
        """Share of the machine's cores busy with this run."""
        return (self.workers + self.server + self.bench) / (wall * (os.cpu_count() or 1))


class CpuMeter:
    """Samples the CPU counters of the workers, the server and this process."""

    def __init__(self, worker_pids: Sequence[int]) -> None:
        self.worker_pids = list(worker_pids)

    def _now(self) -> tuple[float, dict[int, float], float]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        server = {pid: _cpu_of(pid) for pid in _postgres_pids()}
        return sum(_cpu_of(p) for p in self.worker_pids), server, me.ru_utime + me.ru_stime

    def measure(self, run: Callable[[], float]) -> tuple[float, Cpu]:
        """Run ``run`` (returns wall seconds) and the CPU it cost."""
        w0, s0, b0 = self._now()
        wall = run()
        w1, s1, b1 = self._now()
        server = sum(v - s0.get(pid, 0.0) for pid, v in s1.items())
        return wall, Cpu(w1 - w0, server, b1 - b0)


# -- PostgreSQL helpers ----------------------------------------------------------------------


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.partition("?")[0], autocommit=True)


def with_database(url: str, database: str) -> str:
    """``url`` naming another database of the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}", query=""))


def with_schema(url: str, schema: str) -> str:
    """``url`` with the store's ``?schema=``."""
    base = url.partition("?")[0]
    return f"{base}?schema={schema}"


@contextlib.contextmanager
def fresh_schema(server: str) -> Iterator[str]:
    """A store URL on a new schema, dropped afterwards."""
    schema = f"dfbench_{uuid.uuid4().hex[:8]}"
    try:
        yield with_schema(server, schema)
    finally:
        with _connect(server) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A URL of a new database on the server (DBOS's system database), dropped afterwards."""
    name = f"dfbench_dbos_{uuid.uuid4().hex[:8]}"
    with _connect(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        with _connect(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- durableflow: worker processes -----------------------------------------------------------


@contextlib.contextmanager
def worker_processes(url: str, count: int, notify: bool = True) -> Iterator[list[int]]:
    """``count`` ``pg_worker.py`` processes on ``url``, running; their pids."""
    cmd = [sys.executable, str(Path(__file__).with_name("pg_worker.py")), url]
    if not notify:
        cmd.append("--no-notify")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE)
            procs.append(proc)
        for proc in procs:
            assert proc.stdout is not None
            if b"running" not in proc.stdout.readline():
                raise RuntimeError("a worker process did not start")
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_durableflow(client: Client, shape: Shape) -> float:
    """Start ``shape``; wall seconds from the first start until this process has seen the
    last instance complete (polled every 5 ms: the workers' own ``completed_at`` is the
    time their step began, before it claimed the instance, so it can run early)."""
    name = "chain" if shape.kind == "chain" else "fan_out"
    began = time.perf_counter()
    ids = [client.start_new(name, input=shape.width) for _ in range(shape.instances)]
    for iid in ids:
        while True:
            record = client.store.get_instance(iid)
            assert record is not None
            if record.status.is_terminal:
                break
            time.sleep(0.005)
        if record.status is not df.RuntimeStatus.COMPLETED or record.output != shape.width:
            raise RuntimeError(f"durableflow run went wrong: {record}")
    return time.perf_counter() - began


# -- DBOS ------------------------------------------------------------------------------------


@contextlib.contextmanager
def dbos_on(url: str) -> Iterator[DbosRunner]:
    """DBOS launched in this process on database ``url``; destroyed on exit."""
    from dbos import DBOS

    fns = register_dbos(DBOS)
    DBOS(config={"name": "durableflow-bench", "system_database_url": url, "log_level": "WARNING"})
    try:
        DBOS.launch()
        DBOS.register_queue(DBOS_QUEUE, polling_interval_sec=DBOS_QUEUE_POLL)
        yield DbosRunner(DBOS, fns, "queue")
    finally:
        DBOS.destroy()


# -- measuring -------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    """The best run of one system on one workload."""

    wall: float | None = None
    cpu: Cpu | None = None
    runs: int = 0
    error: str | None = None

    def steps_per_s(self, shape: Shape) -> float | None:
        """Throughput of the best run."""
        return None if self.wall is None else shape.steps / self.wall


def best_of(
    run: Callable[[], float],
    meter: CpuMeter,
    warmup: Callable[[], float],
    repeat: int,
    budget: float,
) -> Result:
    """Warm up once, then keep the fastest of up to ``repeat`` runs within ``budget`` s."""
    result = Result()
    try:
        warmup()
        spent = 0.0
        while result.runs < repeat and spent < budget:
            wall, cpu = meter.measure(run)
            spent += wall
            result.runs += 1
            if result.wall is None or wall < result.wall:
                result.wall, result.cpu = wall, cpu
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def measure_durableflow(
    server: str, workers: int, shape: Shape, args: argparse.Namespace
) -> Result:
    """``shape`` on ``workers`` worker processes, on a fresh schema."""
    with fresh_schema(server) as url:
        open_store(url).close()  # migrate before the workers race to
        client = Client(url)
        try:
            with worker_processes(url, workers) as pids:
                return best_of(
                    lambda: run_durableflow(client, shape),
                    CpuMeter(pids),
                    lambda: run_durableflow(client, shape.warmup()),
                    args.repeat,
                    args.budget,
                )
        finally:
            client.store.close()


def measure_dbos(server: str, shape: Shape, args: argparse.Namespace) -> Result:
    """``shape`` on DBOS, on a fresh database."""
    with fresh_database(server) as url, dbos_on(url) as runner:
        return best_of(
            lambda: runner.run(shape),
            CpuMeter([]),
            lambda: runner.run(shape.warmup()),
            args.repeat,
            args.budget,
        )


def pickup_latencies(server: str, notify: bool, samples: int, seed: int = 1) -> list[float]:
    """Milliseconds from start to first step of ``samples`` instances on an idle worker."""
    rng = random.Random(seed)
    out = []
    with fresh_schema(server) as url:
        open_store(url).close()
        client = Client(url)
        try:
            with worker_processes(url, 1, notify=notify):
                for k in range(samples + 5):
                    time.sleep(rng.uniform(0.02, 0.12))  # idle: the worker waits for work
                    iid = client.start_new("chain", input=0)
                    client.wait_for_completion(iid, timeout=60)
                    record = client.store.get_instance(iid)
                    first = client.store.get_history(iid)[0]
                    assert record is not None and isinstance(first, h.OrchestratorStarted)
                    if k >= 5:  # the first few warm the connections up
                        ms = (first.timestamp - record.created_at).total_seconds() * 1000
                        out.append(ms)
        finally:
            client.store.close()
    return out


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# -- printing --------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _rate(result: Result, shape: Shape) -> str:
    rate = result.steps_per_s(shape)
    return result.error or ("n/a" if rate is None else f"{rate:,.0f}")


def _cpu(result: Result) -> str:
    if result.cpu is None or result.wall is None:
        return "n/a"
    c = result.cpu
    return (
        f"workers {c.workers:.1f} / server {c.server:.1f} / bench {c.bench:.1f} s "
        f"({c.busy(result.wall):.0%} of {os.cpu_count()} cores)"
    )


def _server_version(server: str) -> str:
    with _connect(server) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    return f"PostgreSQL {row[0]}, synchronous_commit={sync[0]}, fsync={fsync[0]}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--pg",
        default=os.environ.get("DURABLEFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
        help="the server (a database on it; schemas and databases are made and dropped)",
    )
    p.add_argument("--repeat", type=int, default=2, help="timed runs per cell (best kept)")
    p.add_argument("--budget", type=float, default=20.0, help="seconds of runs per cell")
    p.add_argument("--workers", default="1,2,4", help="worker process counts")
    p.add_argument("--samples", type=int, default=200, help="pickup-latency samples per mode")
    p.add_argument("--skip-dbos", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every cell and print the tables."""
    args = parse_args(argv)
    server = args.pg.partition("?")[0]
    counts = [int(n) for n in args.workers.split(",")]
    t_start = time.monotonic()
    print("durableflow on PostgreSQL, 1..N worker processes, vs DBOS on the same server")
    print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}")
    print(
        f"  machine   {platform.machine()}, {os.cpu_count()} cores, load avg "
        f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} at start"
    )
    print(
        f"  software  Python {platform.python_version()}, {_server_version(server)}, "
        f"durableflow {df.__version__}, dbos {dist_version('dbos')}"
    )
    sys.stdout.flush()

    results: dict[tuple[str, str], Result] = {}
    for shape in WORKLOADS:
        for n in counts:
            r = measure_durableflow(server, n, shape, args)
            results[(f"df{n}", shape.label)] = r
            print(
                f"  . durableflow x{n:<2} {shape.label:<34} {_rate(r, shape):>9} steps/s  {_cpu(r)}"
            )
            sys.stdout.flush()
        if not args.skip_dbos:
            r = measure_dbos(server, shape, args)
            results[("dbos", shape.label)] = r
            print(f"  . DBOS           {shape.label:<34} {_rate(r, shape):>9} steps/s  {_cpu(r)}")
            sys.stdout.flush()

    print()
    header = ["workload", *(f"durableflow x{n}" for n in counts), "DBOS", "ratio x1/DBOS"]
    rows = []
    for shape in WORKLOADS:
        one = results[(f"df{counts[0]}", shape.label)].steps_per_s(shape)
        dbos = results.get(("dbos", shape.label), Result()).steps_per_s(shape)
        ratio = "n/a" if one is None or dbos is None else f"{one / dbos:.2f}x"
        if one is not None and dbos is not None:
            ratio += " (met)" if one / dbos >= STEPS_TARGET else f" (< {STEPS_TARGET:g}x)"
        rows.append(
            [
                shape.label,
                *(_rate(results[(f"df{n}", shape.label)], shape) for n in counts),
                _rate(results.get(("dbos", shape.label), Result()), shape),
                ratio,
            ]
        )
    print(_table(header, rows))
    print()

    pickup_rows = []
    for notify in (True, False):
        try:
            ms = pickup_latencies(server, notify, args.samples)
        except Exception as exc:
            pickup_rows.append([_mode(notify), f"{type(exc).__name__}: {exc}", "", "", ""])
            continue
        p50 = statistics.median(ms)
        met = f" ({'met' if p50 < PICKUP_TARGET_MS else 'not met'})" if notify else ""
        pickup_rows.append(
            [
                _mode(notify),
                f"{p50:.1f}{met}",
                f"{percentile(ms, 99):.1f}",
                f"{max(ms):.1f}",
                str(len(ms)),
            ]
        )
    print(_table(["idle-to-pickup", "p50 ms", "p99 ms", "max ms", "samples"], pickup_rows))
    print()
    print(
        "settings: worker processes = bench/pg_worker.py (Worker, activity_concurrency=4, "
        "poll_interval=0.05); DBOS in this process, default executor, fan-out via a DBOS "
        f"queue polled every {DBOS_QUEUE_POLL}s; each cell a fresh schema / database"
    )
    print(
        f"load avg {'/'.join(f'{x:.2f}' for x in os.getloadavg())} at end; "
        f"total {time.monotonic() - t_start:.0f}s"
    )
    return 0


def _mode(notify: bool) -> str:
    return "notifications (LISTEN/NOTIFY)" if notify else "polling only (50 ms)"


if __name__ == "__main__":
    sys.exit(main())
