"""The two systems the runtime bench drives: durableflow and DBOS, each on SQLite.

Each system opens a fresh database per workload and returns a runner that starts instances
of a :class:`Shape` and waits for them; ``runtime_vs_dbos.py`` times them side by side.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
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
        states = [client.wait_for_completion(iid, timeout=300) for iid in ids]
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


def register_dbos(dbos_cls: type[DBOS]) -> _DbosFunctions:
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

        self.version = getattr(dbos, "__version__", None) or dist_version("dbos")
        self.dbos_cls: type[DBOS] = dbos.DBOS
        self.sqlalchemy = sqlalchemy
        self.synchronous = synchronous
        self.fanout: FanoutMode = fanout
        self.observed: set[str] = set()
        self.fns = register_dbos(self.dbos_cls)

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


def dist_version(name: str) -> str:
    """The installed version of distribution ``name``, or ``?``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"
