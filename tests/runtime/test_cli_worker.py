"""``durable worker`` as a user runs it: a real process, its app given as a file, its log."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import durableflow as df

DURABLE = str(Path(sys.executable).with_name("durable"))
REPO = Path(__file__).resolve().parents[2]

APP_SOURCE = """
import durableflow as df

app = df.App()


@app.activity
def double(x):
    return 2 * x


@app.orchestrator
def doubler(ctx, x):
    ctx.logger.info("doubling %s", x)
    return (yield ctx.call_activity(double, x))
"""


@contextmanager
def worker(folder: Path, *argv: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """A running ``durable worker``; yields it and, once it has stopped, its stderr lines."""
    env = {"PATH": str(Path(DURABLE).parent), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [DURABLE, *argv],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []
    try:
        assert proc.stdout is not None and "running" in proc.stdout.readline()
        yield proc, err
    finally:
        proc.terminate()
        err += proc.communicate(timeout=60)[1].splitlines()


def run_one(folder: Path, *argv: str) -> tuple[str, list[str]]:
    (folder / "flows.py").write_text(APP_SOURCE)
    url = f"sqlite:///{folder / 'w.db'}"
    with worker(folder, *argv, "--store", url) as (proc, err):
        client = df.Client(url)
        iid = client.start_new("doubler", input=21)
        assert client.wait_for_completion(iid, timeout=60).output == 42
    assert proc.returncode == 0 and not any("Traceback" in line for line in err), err
    return iid, err


def test_worker_accepts_a_file_path_for_its_app(tmp_path: Path) -> None:
    run_one(tmp_path, "worker", "./flows.py:app")


def test_worker_logs_each_instance_start_and_end_by_default(tmp_path: Path) -> None:
    iid, err = run_one(tmp_path, "worker", "flows:app")
    assert any(
        line.endswith(f"durableflow.instance: instance {iid} started: doubler") for line in err
    )
    assert any(line.endswith(f"durableflow.instance: instance {iid} completed") for line in err)


def test_worker_shows_the_instance_of_ctx_logger_lines(tmp_path: Path) -> None:
    iid, err = run_one(tmp_path, "worker", "flows:app")
    assert any(
        line.endswith(f"durableflow.orchestration.doubler: [{iid}] doubling 21") for line in err
    )


def test_quiet_worker_logs_no_instance_lines(tmp_path: Path) -> None:
    _, err = run_one(tmp_path, "-q", "worker", "flows:app")
    assert not any("durableflow.instance" in line for line in err), err


def test_durable_workers_lists_a_running_worker_and_forgets_it_once_stopped(
    tmp_path: Path,
) -> None:
    (tmp_path / "flows.py").write_text(APP_SOURCE)
    url = f"sqlite:///{tmp_path / 'w.db'}"

    def listed() -> list[dict[str, object]]:
        out = subprocess.run(
            [DURABLE, "workers", "--json", "--store", url],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": str(Path(DURABLE).parent), "PYTHONPATH": str(REPO)},
        ).stdout
        docs: list[dict[str, object]] = json.loads(out)
        return docs

    with worker(tmp_path, "worker", "flows.py:app", "--store", url) as (proc, _):
        (doc,) = listed()
        assert doc["alive"] is True and doc["pid"] == proc.pid
        assert doc["orchestrations"] == 0 and doc["activities"] == 0
    assert listed() == []


def test_worker_rejects_a_retain_that_is_not_a_duration(tmp_path: Path) -> None:
    result = subprocess.run(
        [DURABLE, "worker", "flows.py:app", "--retain", "forever"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "is not a duration" in result.stderr
