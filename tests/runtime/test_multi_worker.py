"""Two worker processes share one store (a SQLite file, a PostgreSQL schema) without ever
running one step twice at once."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client

ROOT = Path(__file__).resolve().parents[2]


def spawn(store: str, trace: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.traced_worker", store, str(trace)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and b"running" in proc.stdout.readline()
    return proc


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_two_workers_never_run_the_same_step_at_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    store = (
        str(request.getfixturevalue("pg_url"))
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'shared.db'}"
    )
    client = Client(store)
    traces = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    workers = [spawn(store, t) for t in traces]
    try:
        ids = [client.start_new("fan_out", input=5) for _ in range(200)]
        states = [client.wait_for_completion(i, timeout=180) for i in ids]
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            assert w.wait(timeout=60) == 0
    assert all(s.runtime_status is RuntimeStatus.COMPLETED and s.output == 30 for s in states)

    steps: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    owners = set()
    for trace in traces:
        for line in trace.read_text().splitlines():
            iid, owner, start, end, _committed = json.loads(line)
            steps[iid].append((start, end, owner))
            owners.add(owner)
    assert len(owners) == 2, "both workers must have run steps for the check to mean anything"
    assert set(steps) == set(ids)
    for iid, spans in steps.items():
        spans.sort()
        for (_s1, e1, o1), (s2, _e2, o2) in itertools.pairwise(spans):
            assert e1 <= s2, f"steps of {iid} overlapped in {o1} and {o2}"
