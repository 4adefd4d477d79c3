"""The SQLite store under several processes: overlap, SIGKILL, fork."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import InstanceQuery, SqliteStore
from tests.runtime.store_contract import start


def _db(tmp_path: Path, name: str = "store.db") -> str:
    return str(tmp_path / name)


WORKER_SCRIPT = """
import json, sys
from datetime import UTC, datetime, timedelta
from durableflow.core.history import EventRaised
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import (
    LeaseLostError, OrchestrationCommit, OutgoingMessage, SqliteStore,
)
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration
path, owner, steps, hours = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
trace = len(sys.argv) > 5
now = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=hours)  # later runs: leases expired
store = SqliteStore(path)
print("ready", flush=True)
sys.stdin.readline()
done = lost = idle = 0
while idle < 200:
    item = lock_orchestration(store, owner, now=now, lease=timedelta(hours=1))
    if item is None:
        idle += 1
        continue
    idle = 0
    iid, n = item.instance.instance_id, len(item.history)
    more = [OutgoingMessage(iid, EventRaised(timestamp=now, name="next"))] if n + 1 < steps else []
    commit = OrchestrationCommit(
        new_events=[EventRaised(timestamp=now, name=owner, input=n)],
        status=RuntimeStatus.RUNNING if more else RuntimeStatus.COMPLETED,
        messages=more,
        consumed=[m.message_id for m in item.messages],
    )
    try:
        commit_orchestration(store, item, commit, now=now)
        done += 1
        if trace:
            print(iid, n, flush=True)
    except LeaseLostError:
        lost += 1
print(json.dumps({"done": done, "lost": lost}), flush=True)
"""


def test_two_processes_never_step_the_same_instance_at_once(tmp_path: Path) -> None:
    instances, steps = 30, 8
    store = SqliteStore(_db(tmp_path))
    for i in range(instances):
        start(store, f"i{i}")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, _db(tmp_path), f"p{n}", str(steps), "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert [r["lost"] for r in results] == [0, 0]
    assert sum(r["done"] for r in results) == instances * steps
    for i in range(instances):
        history = store.get_history(f"i{i}")
        # each step recorded the history length it saw: a shared lease would repeat one
        assert [e.input for e in history] == list(range(steps))  # type: ignore[attr-defined]
        assert store.get_instance(f"i{i}").status is RuntimeStatus.COMPLETED  # type: ignore[union-attr]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_store_opened_before_fork_works_in_the_child(tmp_path: Path) -> None:
    store = SqliteStore(_db(tmp_path))
    start(store, "parent")
    pid = os.fork()
    if pid == 0:  # the child: must not reuse the parent's connections
        code = 1
        try:
            start(store, "child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get_instance("child") is not None


def _check_consistent(path: str, steps: int) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT instance_id, status, history_len, next_visible_at, lease_owner FROM instances"
        ).fetchall()
        lengths = {}
        for iid, status, length, next_visible, _ in rows:
            events = [
                json.loads(r[0])
                for r in conn.execute(
                    "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (iid,)
                )
            ]
            # appended atomically with the step: no gaps, no repeats, length column agrees
            assert [e["input"] for e in events] == list(range(length)), iid
            inbox = conn.execute(
                "SELECT count(*), MIN(visible_at) FROM messages WHERE instance_id = ?", (iid,)
            ).fetchone()
            # each step consumed one message and queued the next, in the same transaction
            assert inbox[0] == (0 if length == steps else 1), (iid, length, inbox)
            assert next_visible == inbox[1], iid
            assert (status == "COMPLETED") == (length == steps), iid
            lengths[iid] = length
        return lengths


def test_a_sigkilled_writer_leaves_a_consistent_store(tmp_path: Path) -> None:
    instances, steps = 8, 8
    store = SqliteStore(_db(tmp_path))
    for i in range(instances):
        start(store, f"i{i}")
    store.close()
    kills = 0
    while True:
        args = [_db(tmp_path), f"k{kills}", str(steps), str(2 * kills), "trace"]
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        reported = [proc.stdout.readline() for _ in range(7)]
        proc.kill()
        proc.communicate()
        lengths = _check_consistent(_db(tmp_path), steps)
        for line in filter(None, reported):
            if line.startswith("{"):
                break
            iid, n = line.split()
            assert lengths[iid] > int(n), "a step reported as committed was lost"
        if all(n == steps for n in lengths.values()):
            break
        kills += 1
    assert kills >= 8


def test_reopening_after_the_only_writer_was_sigkilled_keeps_every_commit(
    tmp_path: Path,
) -> None:
    script = (
        "import os, signal, sys\n"
        "from tests.runtime.store_contract import start\n"
        "from durableflow.runtime.store import SqliteStore\n"
        "store = SqliteStore(sys.argv[1])\n"
        "for i in range(20):\n"
        "    start(store, f'i{i}')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script, _db(tmp_path)], cwd=root, check=False)
    assert (tmp_path / "store.db-wal").exists()  # left behind: recovery is needed on open
    store = SqliteStore(_db(tmp_path))
    assert len(store.list_instances(InstanceQuery())) == 20
