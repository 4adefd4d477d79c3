"""The README's code blocks run, in the order a reader meets them, and any breakage fails."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.readme_session import (
    RUNNABLE,
    BlockFailed,
    blocks,
    run_session,
    session_env,
)

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_python_and_sh_block_of_the_readme_runs(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    ran = run_session(README, tmp_path, session_env())
    assert {b.lang for b in ran} == set(RUNNABLE)
    assert (tmp_path / "myapp.py").exists() and (tmp_path / "approvals.db").exists()


def test_only_the_block_that_runs_the_test_suite_is_skipped() -> None:
    skipped = [b for b in blocks(README) if b.lang in RUNNABLE and b.skip is not None]
    assert [b.text.split()[:2] for b in skipped] == [["make", "demo"]]


@pytest.mark.parametrize(
    "markdown",
    [
        "```sh\ntrue\nfalse\ntrue\n```\n",
        "```sh\nfalse | cat\n```\n",
        "```python\nraise SystemExit(3)\n```\n",
        "```python\n# broken.py\nimport nosuch_module\n```\n",
        "```sh\ndurable status nosuch\n```\n",
    ],
    ids=["sh-command", "sh-pipe", "python", "python-file", "durable"],
)
def test_a_broken_block_fails_the_session(markdown: str, tmp_path: Path) -> None:
    with pytest.raises(BlockFailed, match="README block at line 1"):
        run_session(markdown, tmp_path, session_env())


def test_blocks_run_in_order_and_share_the_folder(tmp_path: Path) -> None:
    markdown = (
        "```python\n# made.py\nprint('hi')\n```\n\ntext\n\n"
        "```sh\npython made.py > out.txt && grep -q hi out.txt\n```\n"
    )
    assert len(run_session(markdown, tmp_path, session_env())) == 2


def test_a_marked_block_is_not_run(tmp_path: Path) -> None:
    markdown = "<!-- readme-test: skip - it would fail -->\n```sh\nfalse\n```\n"
    assert run_session(markdown, tmp_path, session_env()) == []


def test_background_jobs_of_a_block_are_stopped_after_it(tmp_path: Path) -> None:
    markdown = "```sh\nsleep 300 &\necho $! > pid\n```\n"
    run_session(markdown, tmp_path, session_env())
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # the process is reaped by init once the signal lands
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
