"""Round trips to PostgreSQL per store call, counted in a worker running the bench's app.

Runs ``df.Runtime`` (the worker's defaults) on a fresh schema with the workloads of
``bench/pg_scale.py`` (a 200-activity chain, a 200-activity fan-out, 500 instances of a
3-activity chain) and counts, for each store method the worker calls, the calls and the
round trips they cost. A round trip is one protocol exchange psycopg waits on the socket
for (one query string sent and its results read back, however many statements it holds).

Usage::

    .venv/bin/python bench/pg_round_trips.py [--pg URL]
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import threading
from typing import Any

from pg_scale import fresh_schema
from runtime_systems import ACTIVITY_CONCURRENCY, POLL_INTERVAL, WORKLOADS, df_app

import durableflow as df
from durableflow.runtime.store.postgres import PostgresStore

_current = threading.local()
calls: collections.Counter[str] = collections.Counter()
trips: collections.Counter[str] = collections.Counter()


def _counting(gen: Any, key: str) -> Any:
    """``gen`` (a psycopg protocol generator), counting one round trip if it waits for the
    socket at all (a commit on an idle connection sends nothing and waits for nothing)."""
    try:
        ready = next(gen)
    except StopIteration as stop:
        return stop.value
    trips[key] += 1
    while True:
        answer = yield ready
        try:
            ready = gen.send(answer)
        except StopIteration as stop:
            return stop.value


def _count_waits() -> None:
    import psycopg

    wait = psycopg.Connection.wait

    def counted(self: Any, gen: Any, *args: Any, **kwargs: Any) -> Any:
        return wait(self, _counting(gen, getattr(_current, "method", "(other)")), *args, **kwargs)

    psycopg.Connection.wait = counted  # type: ignore[method-assign]


def _count_calls() -> None:
    for name in dir(PostgresStore):
        method = getattr(PostgresStore, name)
        if name.startswith("_") or not callable(method):
            continue

        def wrap(method: Any = method, name: str = name) -> Any:
            @functools.wraps(method)
            def counted(*args: Any, **kwargs: Any) -> Any:
                outer = getattr(_current, "method", None)
                if outer is None:
                    calls[name] += 1
                    _current.method = name
                try:
                    return method(*args, **kwargs)
                finally:
                    if outer is None:
                        _current.method = None

            return counted

        setattr(PostgresStore, name, wrap())


def main() -> None:
    """Run each workload once and print the counts."""
    p = argparse.ArgumentParser()
    p.add_argument(
        "--pg",
        default=os.environ.get("DURABLEFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = p.parse_args()
    _count_waits()
    _count_calls()
    for shape in WORKLOADS:
        calls.clear()
        trips.clear()
        with (
            fresh_schema(args.pg) as url,
            df.Runtime(
                df_app, url, activity_concurrency=ACTIVITY_CONCURRENCY, poll_interval=POLL_INTERVAL
            ) as rt,
        ):
            calls.clear()
            trips.clear()
            name = "chain" if shape.kind == "chain" else "fan_out"
            ids = [rt.client.start_new(name, input=shape.width) for _ in range(shape.instances)]
            for iid in ids:
                state = rt.client.wait_for_completion(iid, timeout=300)
                assert state.output == shape.width, state
        activities = shape.width * shape.instances
        print(f"\n{shape.label}: {activities} activities")
        print("| store call | calls | round trips | per call |")
        print("| --- | --- | --- | --- |")
        for method, n in calls.most_common():
            if n:
                print(f"| {method} | {n} | {trips[method]} | {trips[method] / n:.2f} |")
        total = sum(trips.values())
        print(f"| all | {sum(calls.values())} | {total} | {total / activities:.2f} per activity |")


if __name__ == "__main__":
    main()
