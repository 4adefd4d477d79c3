"""--fix, --unsafe-fixes and --diff: the rewrites, their idempotency and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from durableflow.cli.lint import main
from durableflow.linter import LintConfig, lint_source
from durableflow.linter.fixes import fix_source
from durableflow.linter.rules import ALL_RULES

WriteFiles = Callable[[dict[str, str]], Path]
FIXES = [
    pytest.param(rule.CODE, before, after, id=f"{rule.CODE}-{i}")
    for rule in ALL_RULES
    for i, (before, after) in enumerate(rule.FIXES)
]
CONFIG = LintConfig()


@pytest.mark.parametrize(("code", "before", "after"), FIXES)
def test_fix_rewrites_to_the_documented_result(code: str, before: str, after: str) -> None:
    assert fix_source(before, "example.py", "example", CONFIG, unsafe=True).source == after


@pytest.mark.parametrize(("code", "before", "after"), FIXES)
def test_fixed_file_relints_clean_for_the_fixed_code(code: str, before: str, after: str) -> None:
    assert code in {f.code for f in lint_source(before)}
    assert code not in {f.code for f in lint_source(after)}


@pytest.mark.parametrize(("code", "before", "after"), FIXES)
def test_second_fix_changes_nothing(code: str, before: str, after: str) -> None:
    once = fix_source(before, "example.py", "example", CONFIG, unsafe=True).source
    twice = fix_source(once, "example.py", "example", CONFIG, unsafe=True)
    assert twice.source == once and twice.applied == ()


def test_safe_fix_leaves_meaning_changing_rewrites_alone() -> None:
    source = (
        "import datetime\nimport durableflow as df\napp = df.App()\n\n@app.orchestrator\n"
        "def orch(ctx, data):\n    yield ctx.call_activity('a', datetime.datetime.utcnow())\n"
    )
    assert fix_source(source, "example.py", "example", CONFIG).source == source
    assert (
        "ctx.current_utc_datetime)"
        in fix_source(source, "example.py", "example", CONFIG, unsafe=True).source
    )


def test_suppressed_finding_is_not_fixed() -> None:
    source = (
        "import uuid\nimport durableflow as df\napp = df.App()\n\n@app.orchestrator\n"
        "def orch(ctx, data):\n    yield ctx.call_activity('a', uuid.uuid4())  # noqa: DUR002\n"
    )
    assert fix_source(source, "example.py", "example", CONFIG).source == source


def test_nested_fixes_are_all_applied_in_one_run() -> None:
    source = (
        "import logging\nimport time\nimport durableflow as df\napp = df.App()\n\n"
        "@app.orchestrator\ndef orch(ctx, data):\n"
        "    logging.info('at %s', time.time())\n    yield ctx.call_activity('a', data)\n"
    )
    fixed = fix_source(source, "example.py", "example", CONFIG).source
    assert lint_source(fixed) == []
    assert (
        "    if not ctx.is_replaying:\n        logging.info('at %s', ctx.current_utc_datetime"
        in fixed
    )


FILE = """
import uuid
import durableflow as df

app = df.App()


@app.orchestrator
def orch(ctx, data):
    # keep this comment
    yield ctx.call_activity("a", str(uuid.uuid4()))
"""


def test_cli_fix_writes_the_file_and_exits_clean(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"flows.py": FILE})
    assert main(["--no-cache", "-j", "1", "--fix", str(root)]) == 0
    text = (root / "flows.py").read_text()
    assert 'ctx.call_activity("a", ctx.new_uuid())' in text and "# keep this comment" in text


def test_cli_diff_prints_a_diff_and_writes_nothing(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"flows.py": FILE})
    before = (root / "flows.py").read_text()
    assert main(["--no-cache", "-j", "1", "--diff", str(root)]) == 1
    out = capsys.readouterr().out
    assert '-    yield ctx.call_activity("a", str(uuid.uuid4()))' in out
    assert '+    yield ctx.call_activity("a", ctx.new_uuid())' in out
    assert (root / "flows.py").read_text() == before


def test_cli_fix_keeps_crlf_line_endings(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({})
    (root / "flows.py").write_bytes(FILE.replace("\n", "\r\n").encode())
    assert main(["--no-cache", "-j", "1", "--fix", str(root)]) == 0
    data = (root / "flows.py").read_bytes()
    assert b'("a", ctx.new_uuid())' in data and data.count(b"\r\n") == FILE.count("\n")


UNSAFE_FILE = """
import datetime
import durableflow as df

app = df.App()


@app.orchestrator
def orch(ctx, data):
    yield ctx.call_activity("a", str(datetime.datetime.utcnow()))
"""


def test_cli_unsafe_fixes_alone_only_reports(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"flows.py": UNSAFE_FILE})
    before = (root / "flows.py").read_text()
    assert main(["--no-cache", "-j", "1", "--unsafe-fixes", str(root)]) == 1
    out = capsys.readouterr()
    assert "DUR001" in out.out and "1 fixable with --fix --unsafe-fixes" in out.err
    assert (root / "flows.py").read_text() == before


def test_cli_unsafe_fixes_with_fix_applies_the_unsafe_rewrite(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"flows.py": UNSAFE_FILE})
    assert main(["--no-cache", "-j", "1", "--fix", "--unsafe-fixes", str(root)]) == 0
    assert "ctx.current_utc_datetime" in (root / "flows.py").read_text()


def test_cli_fix_without_unsafe_fixes_leaves_the_unsafe_rewrite(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files({"flows.py": UNSAFE_FILE})
    before = (root / "flows.py").read_text()
    assert main(["--no-cache", "-j", "1", "--fix", str(root)]) == 1
    assert (root / "flows.py").read_text() == before
