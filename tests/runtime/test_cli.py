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
    "wait",
    "raise-event",
    "terminate",
    "suspend",
    "resume",
    "purge",
    "workers",
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
    code, out, _ = run(capsys, "status", "w1", "--json", "--store", url)
    assert json.loads(out)["runtime_status"] == "PENDING"
    with df.Runtime(app, url) as rt:
        assert run(capsys, "raise-event", "w1", "go", '"a"', "--store", url)[0] == 0
        assert run(capsys, "raise-event", "w1", "go", "[1]", "--store", url)[0] == 0
        assert rt.client.wait_for_completion("w1", timeout=30).output == ["a", [1]]
    code, out, _ = run(capsys, "list", "--status", "COMPLETED", "--store", url)
    assert code == 0 and out.splitlines()[1].split()[:3] == ["w1", "waits", "COMPLETED"]
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


def test_start_with_bad_json_input_is_a_usage_error_and_creates_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "start", "waits", "--input", "{oops", "--store", url)
    assert code == 2 and "--input is not valid JSON" in err
    assert not Path(url.removeprefix("sqlite:///")).exists()


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


def test_worker_with_bad_app_spec_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "worker", "no_colon_here")
    assert code == 2 and "module:attribute" in err


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


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"durable {df.__version__}"


def test_list_prints_a_header_row_and_aligned_columns(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "a-much-longer-id", "--store", url)
    run(capsys, "start", "echo_once", "--id", "b", "--store", url)
    code, out, _ = run(capsys, "list", "--store", url)
    header, *rows = out.splitlines()
    assert code == 0 and header.split("  ")[0] == "INSTANCE ID"
    assert [r.split()[0] for r in rows] == ["b", "a-much-longer-id"]
    columns = [header.index(title) for title in ("NAME", "STATUS", "CREATED")]
    for row in rows:
        assert all(row[c - 1] == " " and row[c] != " " for c in columns)


@pytest.mark.parametrize("spelling", ["pending", "Pending,completed", "COMPLETED,pending"])
def test_list_status_is_case_insensitive_and_takes_a_comma_list(
    spelling: str, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "p1", "--store", url)
    code, out, _ = run(capsys, "list", "--status", spelling, "--json", "--store", url)
    assert code == 0 and [s["instance_id"] for s in json.loads(out)] == ["p1"]


def test_list_status_filters_out_other_statuses(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "p1", "--store", url)
    code, out, _ = run(
        capsys, "list", "--status", "running", "--status", "failed", "--json", "--store", url
    )
    assert code == 0 and json.loads(out) == []


def test_list_unknown_status_is_a_usage_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["list", "--status", "done", "--store", url])
    assert exit_.value.code == 2 and "unknown runtime status 'done'" in capsys.readouterr().err


def test_list_created_from_and_to_accept_dates(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "today", "--store", url)
    today = df.Client(url).get_status("today")
    assert today is not None
    day = today.created_at.date().isoformat()
    listed = run(
        capsys, "list", "--created-from", day, "--created-to", day, "--json", "--store", url
    )[1]
    assert [s["instance_id"] for s in json.loads(listed)] == ["today"]
    tomorrow = f"{today.created_at.year + 1}-01-01"
    later = run(capsys, "list", "--created-from", tomorrow, "--json", "--store", url)[1]
    assert json.loads(later) == []


def test_list_created_from_accepts_a_datetime_with_an_offset(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "x", "--store", url)
    code, out, _ = run(
        capsys, "list", "--created-from", "2000-01-01T10:00+02:00", "--json", "--store", url
    )
    assert code == 0 and len(json.loads(out)) == 1


def test_list_created_from_that_is_no_date_is_a_usage_error(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["list", "--created-from", "yesterday", "--store", url])
    assert exit_.value.code == 2 and "ISO 8601" in capsys.readouterr().err


def test_status_prints_key_value_lines(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "start", "waits", "--id", "s1", "--input", '{"n": 1}', "--store", url)
    code, out, _ = run(capsys, "status", "s1", "--store", url)
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert code == 0 and fields["instance_id"].strip() == "s1"
    assert fields["runtime_status"].strip() == "PENDING"
    assert json.loads(fields["input"]) == {"n": 1}


def test_status_with_history_lists_one_event_per_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "echo_once", "--id", "h1", "--input", "7", "--store", url)
    with df.Runtime(app, url) as rt:
        rt.client.wait_for_completion("h1", timeout=30)
    out = run(capsys, "status", "h1", "--history", "--store", url)[1]
    events = out.split("history:\n", 1)[1].splitlines()
    assert "ExecutionStarted" in events[1] and "ExecutionCompleted" in events[-1]


def test_status_of_a_failed_instance_shows_the_error_and_its_trace(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "unknown_activity", "--id", "f1", "--store", url)
    with df.Runtime(app, url) as rt:
        rt.client.wait_for_completion("f1", timeout=30)
    out = run(capsys, "status", "f1", "--store", url)[1]
    assert "runtime_status:  FAILED" in out and "failure:" in out and "'nope'" in out


def test_start_reads_its_input_from_an_at_file(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "input.json").write_text('{"items": [1, 2]}')
    run(
        capsys,
        "start",
        "waits",
        "--id",
        "i1",
        "--input",
        f"@{tmp_path / 'input.json'}",
        "--store",
        url,
    )
    state = df.Client(url).get_status("i1")
    assert state is not None and state.input == {"items": [1, 2]}


def test_raise_event_reads_its_data_from_an_at_file(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data.json").write_text('"from a file"')
    run(capsys, "start", "waits", "--id", "e1", "--store", url)
    path = f"@{tmp_path / 'data.json'}"
    assert run(capsys, "raise-event", "e1", "go", path, "--store", url)[0] == 0
    assert run(capsys, "raise-event", "e1", "go", path, "--store", url)[0] == 0
    with df.Runtime(app, url) as rt:
        assert rt.client.wait_for_completion("e1", timeout=30).output == ["from a file"] * 2


def test_input_from_a_missing_at_file_exits_1_and_says_which(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "start", "waits", "--input", "@nope.json", "--store", url)
    assert code == 1 and "cannot read --input from nope.json" in err


def test_replay_takes_an_instance_id_from_the_store(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "echo_once", "--id", "r1", "--input", "3", "--store", url)
    with df.Runtime(app, url) as rt:
        rt.client.wait_for_completion("r1", timeout=30)
    code, out, _ = run(
        capsys, "replay", "r1", "--app", "tests.runtime.test_client:app", "--store", url
    )
    assert code == 0 and "r1: replays cleanly (COMPLETED)" in out


def test_verbosity_flags_before_and_after_the_command_add_up() -> None:
    from durableflow.cli import build_parser

    args = build_parser().parse_args(["-v", "list", "-v", "-q"])
    assert (args.verbose + args.verbose_before, args.quiet + args.quiet_before) == (2, 1)


def test_wait_prints_the_final_status_and_exits_0_when_completed(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "echo_once", "--id", "w0", "--input", "5", "--store", url)
    with df.Runtime(app, url):
        code, out, _ = run(capsys, "wait", "w0", "--timeout", "30", "--store", url)
    assert code == 0 and "runtime_status:  COMPLETED" in out and "output:          5" in out


def test_wait_exits_1_when_the_instance_did_not_complete(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "w2", "--store", url)
    run(capsys, "terminate", "w2", "--store", url)
    with df.Runtime(app, url):
        code, out, _ = run(capsys, "wait", "w2", "--json", "--store", url)
    assert code == 1 and json.loads(out)["runtime_status"] == "TERMINATED"


def test_wait_that_times_out_exits_1_and_says_the_instance_goes_on(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "start", "waits", "--id", "w3", "--store", url)
    code, _, err = run(capsys, "wait", "w3", "--timeout", "0.05", "--store", url)
    assert code == 1 and "still PENDING" in err and "keeps running" in err


def test_log_lines_go_to_stderr_as_it_is_when_they_are_logged(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import logging

    main(["list", "--store", url])
    later = io.StringIO()
    monkeypatch.setattr("sys.stderr", later)
    logging.getLogger("durableflow.instance").error("logged after the run")
    assert "logged after the run" in later.getvalue()
