"""The `durable` command line: arguments in, API calls, formatted results and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import durableflow as df
from durableflow.cli import main
from tests.runtime.test_client import app

COMMANDS = [
    "worker",
    "start",
    "status",
    "raise-event",
    "terminate",
    "suspend",
    "resume",
    "purge",
    "list",
    "history",
    "replay",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and "--store" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_start_status_raise_event_history_round_trip(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "start", "waits", "--id", "w1", "--store", url)
    assert code == 0 and out.strip() == "w1"
    code, out, _ = run(capsys, "status", "w1", "--store", url)
    assert json.loads(out)["runtime_status"] == "PENDING"
    with df.Runtime(app, url) as rt:
        assert run(capsys, "raise-event", "w1", "go", '"a"', "--store", url)[0] == 0
        assert run(capsys, "raise-event", "w1", "go", "[1]", "--store", url)[0] == 0
        assert rt.client.wait_for_completion("w1", timeout=30).output == ["a", [1]]
    code, out, _ = run(capsys, "list", "--status", "COMPLETED", "--store", url)
    assert code == 0 and out.startswith("w1\twaits\tCOMPLETED")
    code, out, _ = run(capsys, "history", "w1", "--store", url)
    assert json.loads(out)["events"][-1]["type"] == "ExecutionCompleted"
    assert run(capsys, "purge", "w1", "--store", url)[0] == 0
    code, _, err = run(capsys, "status", "w1", "--store", url)
    assert code == 1 and "no instance with id 'w1'" in err


def test_terminate_suspend_resume_exit_0_then_1_when_ended(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "t1", "--store", url)
    assert run(capsys, "suspend", "t1", "--store", url)[0] == 0
    assert run(capsys, "resume", "t1", "--store", url)[0] == 0
    assert run(capsys, "terminate", "t1", "--reason", "bye", "--store", url)[0] == 0
    with df.Runtime(app, url) as rt:
        rt.client.wait_for_completion("t1", timeout=30)
    code, _, err = run(capsys, "terminate", "t1", "--store", url)
    assert code == 1 and "already TERMINATED" in err


def test_start_with_bad_json_input_exits_1_and_creates_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "start", "waits", "--input", "{oops", "--store", url)
    assert code == 1 and "--input is not valid JSON" in err
    assert df.Client(url).list_instances() == []


def test_start_twice_with_same_id_exits_1(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "start", "waits", "--id", "s", "--store", url)
    code, _, err = run(capsys, "start", "waits", "--id", "s", "--store", url)
    assert code == 1 and "already exists" in err


def test_store_that_is_not_sqlite_exits_1_and_keeps_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 10)
    code, _, err = run(capsys, "list", "--store", f"sqlite:///{path}")
    assert code == 1 and str(path) in err
    assert path.read_bytes() == b"these are my notes, not a database\n" * 10


def test_worker_with_bad_app_spec_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "worker", "no_colon_here")
    assert code == 1 and "module:attribute" in err


def test_run_executes_a_compiled_graph_and_prints_its_output(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "ff.json"
    assert main(["compile", "examples/fan_out_fan_in.py", "-o", str(graph)]) == 0
    capsys.readouterr()
    code, out, _ = run(
        capsys,
        "run",
        str(graph),
        "--app",
        "examples.fan_out_fan_in:app",
        "--input",
        "[1, 2, 3]",
        "--id",
        "g1",
        "--store",
        url,
    )
    assert code == 0 and json.loads(out) == 12
    kinds = [
        e["type"] for e in json.loads(run(capsys, "history", "g1", "--store", url)[1])["events"]
    ]
    assert kinds.count("TaskScheduled") == 4 and kinds[-1] == "ExecutionCompleted"


def test_run_exits_1_when_the_graph_instance_fails(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "ff.json"
    assert main(["compile", "examples/fan_out_fan_in.py", "-o", str(graph)]) == 0
    capsys.readouterr()
    code, _, err = run(
        capsys,
        "run",
        str(graph),
        "--app",
        "examples.function_chaining:app",
        "--input",
        "[1]",
        "--store",
        url,
    )
    assert code == 1 and "unknown activity 'process'" in err


def test_worker_runs_compiled_graphs_from_a_folder(tmp_path: Path, url: str) -> None:
    import signal
    import subprocess
    import sys

    graphs = tmp_path / "graphs"
    graphs.mkdir()
    assert main(["compile", "examples/fan_out_fan_in.py", "-o", str(graphs / "ff.json")]) == 0
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "durableflow.cli",
            "worker",
            "tests.runtime.graph_only_app:app",
            "--graphs",
            str(graphs),
            "--store",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None and b"running" in proc.stdout.readline()
        client = df.Client(url)
        iid = client.start_new("fan_out_fan_in", input=[1, 2, 3])
        assert client.wait_for_completion(iid, timeout=60).output == 12
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
