"""The durable-lint command line: formats, exit codes, --explain, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from durableflow.cli.lint import main

WriteFiles = Callable[[dict[str, str]], Path]

BAD = """
import time
import durableflow as df

app = df.App()

@app.orchestrator
def orch(ctx, data):
    started = time.time()
    yield ctx.call_activity("work", started)
"""
CLEAN = """
import durableflow as df

app = df.App()

@app.orchestrator
def orch(ctx, data):
    yield ctx.call_activity("work", data)
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["--no-cache", "--jobs", "1", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_clean_tree_exits_zero_and_prints_nothing(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"wf.py": CLEAN})
    assert run(capsys, str(root)) == (0, "", "")


def test_finding_exits_one_in_path_line_col_code_format(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"wf.py": BAD})
    status, out, _ = run(capsys, str(root / "wf.py"))
    assert status == 1
    assert out.startswith(f"{root / 'wf.py'}:8:15: DUR001 `time.time` ")


def test_json_format_lists_objects_with_documented_fields(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"wf.py": BAD})
    _, out, _ = run(capsys, "--format", "json", str(root))
    (item,) = json.loads(out)
    assert set(item) == {
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "message",
        "fix",
    }
    assert (item["line"], item["column"], item["end_column"]) == (8, 15, 24)
    assert item["fix"] == {"replacement": "ctx.current_utc_datetime.timestamp()", "safe": True}


def test_github_format_emits_error_annotations(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"wf.py": BAD})
    _, out, _ = run(capsys, "--format", "github", str(root))
    assert out.startswith(f"::error file={root / 'wf.py'},line=8,col=15,")
    assert "title=DUR001::DUR001 `time.time`" in out


def test_unparsable_file_is_dur000_and_other_files_are_still_linted(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"a_broken.py": "def orchestrator(:\n", "b.py": BAD})
    status, out, _ = run(capsys, str(root))
    lines = out.splitlines()
    assert status == 1
    assert lines[0].startswith(f"{root / 'a_broken.py'}:1:18: DUR000 ")
    assert "DUR001" in lines[1]


def test_explain_prints_doc_with_bad_and_good_example(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--explain", "dur001")
    assert status == 0
    assert out.startswith("DUR001 (current-time)")
    assert "Bad:" in out and "Good:" in out and "ctx.current_utc_datetime" in out


def test_explain_unknown_code_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "--explain", "DUR999")
    assert status == 2 and "DUR999" in err


def test_missing_path_is_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, str(tmp_path / "nope"))
    assert status == 2 and "no such file" in err


def test_unknown_option_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--frobnicate")[0] == 2


def test_bad_config_is_usage_error(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"pyproject.toml": "[tool.durable-lint]\nselct = ['DUR001']\n"})
    status, _, err = run(capsys, "--config", str(root / "pyproject.toml"), str(root))
    assert status == 2 and "selct" in err


def test_file_with_coding_cookie_is_decoded_like_the_interpreter_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "# -*- coding: latin-1 -*-\n" + BAD.replace('"work"', '"caf\xe9"')
    (tmp_path / "wf.py").write_bytes(source.encode("latin-1"))
    status, out, _ = run(capsys, str(tmp_path))
    assert status == 1 and " DUR001 " in out and "DUR000" not in out


def test_exclude_skips_matching_paths_when_walking(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"keep/wf.py": BAD, "generated/wf.py": BAD})
    status, out, _ = run(capsys, "--exclude", "generated", str(root))
    assert status == 1
    assert [line.split(":")[0] for line in out.splitlines()] == [str(root / "keep" / "wf.py")]


def test_same_file_given_twice_is_reported_once(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"wf.py": BAD})
    _, out, _ = run(capsys, str(root / "wf.py"), str(root / "." / "wf.py"))
    assert len(out.splitlines()) == 1
