"""A worker killed with SIGKILL at random points loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from durableflow.core import history as h
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import Client
from tests.runtime.crash_app import expected_chain

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def spawn_worker(store: str, *, wait_ready: bool = False) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "durableflow.cli",
            "worker",
            "tests.runtime.crash_app:app",
            "--store",
            store,
            "--lease",
            "0.5",
            "--activity-concurrency",
            "4",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE if wait_ready else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if wait_ready:
        assert proc.stdout is not None
        assert b"running" in proc.stdout.readline()
    return proc


def snapshot(client: Client, ids: list[str]) -> dict[str, list[dict[str, object]]]:
    return {i: [h.event_to_dict(e) for e in client.store.get_history(i)] for i in ids}


@pytest.mark.slow
def test_sigkilled_worker_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'crash.db'}"
    client = Client(store)
    seeds = list(range(1, 7))
    ids = [client.start_new("chain", input=s, instance_id=f"chain-{s}") for s in seeds]
    rng = random.Random(20261122)
    before = snapshot(client, ids)
    kills = 0
    while kills < KILLS:
        proc = spawn_worker(store)
        try:
            proc.wait(timeout=rng.uniform(0.4, 1.0))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        after = snapshot(client, ids)
        for i in ids:
            assert after[i][: len(before[i])] == before[i], f"history of {i} was rewritten"
        before = after
    assert any(len(v) < 200 for v in before.values()), "the work finished before the kills"

    proc = spawn_worker(store, wait_ready=True)
    try:
        states = [client.wait_for_completion(i, timeout=120) for i in ids]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    for seed, st in zip(seeds, states, strict=True):
        assert st.runtime_status is RuntimeStatus.COMPLETED
        assert st.output == expected_chain(seed)
    for i in ids:
        events = client.store.get_history(i)
        done = Counter(e.task_id for e in events if isinstance(e, h.TaskCompleted))
        scheduled = Counter(e.task_id for e in events if isinstance(e, h.TaskScheduled))
        assert max(done.values()) == 1 and max(scheduled.values()) == 1
        assert sorted(done) == list(range(50))
