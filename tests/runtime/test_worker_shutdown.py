"""Stopping a worker: no new work, a bounded drain, a forced exit, and leases released."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

import durableflow as df
from durableflow.core.errors import WaitTimeoutError
from durableflow.runtime.store import Store
from tests.runtime.hang_app import app

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20.0
LONG_LEASE = 120.0  # far longer than any test waits: a test that waits it out fails


def wait_for_runs(marker: Path, runs: int) -> None:
    """Poll until the ``stuck`` activity has started ``runs`` times (or fail after WAIT)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().count("\n") >= runs:
            return
        time.sleep(0.01)
    pytest.fail(f"activity did not start {runs} time(s) within {WAIT}s")


def spawn_worker(store: str, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "durableflow.cli",
            "worker",
            "tests.runtime.hang_app:app",
            "--store",
            store,
            "--lease",
            str(LONG_LEASE),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and "running" in proc.stdout.readline()
    return proc


def read_until(stream: IO[str], text: str) -> None:
    """Read lines of a worker's log until one contains ``text`` (EOF fails the test)."""
    for line in stream:
        if text in line:
            return
    pytest.fail(f"the worker's log ended without {text!r}")


def test_leaving_a_runtime_gives_up_a_hung_activity_within_the_drain_timeout(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "runs.txt"
    rt = df.Runtime(app, f"sqlite:///{tmp_path / 's.db'}", drain_timeout=0.2)
    with rt:
        rt.client.start_new("calls_stuck", input=str(marker))
        wait_for_runs(marker, 1)
        left = time.monotonic()
    assert time.monotonic() - left < 5


def test_a_runtime_left_gracefully_releases_its_leases_for_the_next_one(tmp_path: Path) -> None:
    marker = tmp_path / "runs.txt"
    store = f"sqlite:///{tmp_path / 's.db'}"
    with df.Runtime(app, store, drain_timeout=0.2, lease=timedelta(seconds=LONG_LEASE)) as first:
        iid = first.client.start_new("calls_stuck", input=str(marker))
        wait_for_runs(marker, 1)
    with df.Runtime(app, store, lease=timedelta(seconds=LONG_LEASE)) as second:
        state = second.client.wait_for_completion(iid, timeout=WAIT)
    assert state.output == "run 2"


@pytest.mark.slow
def test_sigint_stops_the_worker_within_its_drain_timeout_and_releases_leases(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "runs.txt"
    store = f"sqlite:///{tmp_path / 's.db'}"
    client = df.Client(store)
    iid = client.start_new("calls_stuck", input=str(marker))
    first = spawn_worker(store, "--drain-timeout", "0.5")
    try:
        wait_for_runs(marker, 1)
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=WAIT) == 0
    finally:
        first.kill()
    second = spawn_worker(store)
    try:
        state = client.wait_for_completion(iid, timeout=WAIT)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=WAIT) == 0
    assert state.output == "run 2"


@pytest.mark.slow
def test_a_second_sigint_exits_at_once_and_no_new_work_starts_meanwhile(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "runs.txt"
    store = f"sqlite:///{tmp_path / 's.db'}"
    client = df.Client(store)
    client.start_new("calls_stuck", input=str(marker))
    worker = spawn_worker(store, "--drain-timeout", "600")
    try:
        wait_for_runs(marker, 1)
        worker.send_signal(signal.SIGINT)
        assert worker.stderr is not None
        read_until(worker.stderr, "received SIGINT")
        late = client.start_new("calls_stuck", input=str(tmp_path / "late.txt"))
        with pytest.raises(WaitTimeoutError):
            client.wait_for_completion(late, timeout=1.0)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=WAIT) == 128 + signal.SIGINT
    finally:
        worker.kill()
    assert client.get_status(late).runtime_status is df.RuntimeStatus.PENDING


def spawn_runtime(store: str, marker: Path, drain: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.hang_runtime", store, str(marker), str(drain)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line[:1] == ["running"], line
    return proc, line[1]


@pytest.mark.slow
def test_ctrl_c_in_a_program_with_a_runtime_drains_and_releases_its_leases(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "runs.txt"
    store = f"sqlite:///{tmp_path / 's.db'}"
    proc, iid = spawn_runtime(store, marker, 0.5)
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
    finally:
        proc.kill()
    with df.Runtime(app, store, lease=timedelta(seconds=LONG_LEASE)) as rt:
        assert rt.client.wait_for_completion(iid, timeout=WAIT).output == "run 2"


@pytest.mark.slow
def test_a_second_ctrl_c_leaves_a_runtime_without_waiting_for_the_drain(tmp_path: Path) -> None:
    proc, _ = spawn_runtime(f"sqlite:///{tmp_path / 's.db'}", tmp_path / "runs.txt", 600)
    try:
        proc.send_signal(signal.SIGINT)
        assert proc.stderr is not None
        read_until(proc.stderr, "in-flight work has 600s to finish")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) != 0
    finally:
        proc.kill()


@pytest.mark.slow
def test_durable_worker_times_out_a_hung_activity_with_its_activity_timeout(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    client = df.Client(store)
    iid = client.start_new("calls_stuck", input=str(tmp_path / "runs.txt"))
    worker = spawn_worker(store, "--activity-timeout", "0.3")
    try:
        state = client.wait_for_completion(iid, timeout=WAIT)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=WAIT) == 0
    assert state.runtime_status is df.RuntimeStatus.FAILED
    assert state.failure is not None and "ActivityTimeoutError" in state.failure.message


class _Stopping(logging.Handler):
    """Sets ``event`` when the worker logs that it is stopping."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__()
        self.event = event

    def emit(self, record: logging.LogRecord) -> None:
        if "in-flight work has" in record.getMessage():
            self.event.set()


def test_a_stopping_worker_gives_back_leased_activities_it_has_not_started(
    tmp_path: Path,
) -> None:
    release, stopping = threading.Event(), threading.Event()
    ran: list[str] = []
    queued = df.App()

    @queued.activity
    def gate() -> None:
        release.wait(WAIT)

    @queued.activity
    def later() -> str:
        ran.append("later")
        return "ran"

    @queued.orchestrator
    def calls(ctx: df.OrchestrationContext, name: str) -> Generator[Any, Any, Any]:
        return (yield ctx.call_activity(name))

    store = f"sqlite:///{tmp_path / 's.db'}"
    lease = timedelta(seconds=LONG_LEASE)
    handler = _Stopping(stopping)
    logger = logging.getLogger("durableflow.worker")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        rt = df.Runtime(queued, store, activity_concurrency=1, lease=lease).start()
        rt.client.start_new("calls", input="gate")
        iid = rt.client.start_new("calls", input="later")
        # Both activities leased to this worker: its one runner holds "gate", "later" waits
        # in its local queue. Leased work wakes no earlier than its lease expiry.
        deadline = time.monotonic() + WAIT
        while not _all_leased(rt.store, lease) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _all_leased(rt.store, lease)
        threading.Thread(target=lambda: (stopping.wait(WAIT), release.set())).start()
        rt.stop()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert ran == []
    with df.Runtime(queued, store, lease=lease) as again:
        assert again.client.wait_for_completion(iid, timeout=WAIT).output == "ran"


def _all_leased(store: Store, lease: timedelta) -> bool:
    wake = store.next_wake_time()
    return wake is not None and wake > datetime.now(UTC) + lease / 2
