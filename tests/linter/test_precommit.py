"""The exported pre-commit hook, driven by the real pre-commit against a throwaway repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BAD = """import time
import durableflow as df

app = df.App()


@app.orchestrator
def flow(ctx, data):
    yield ctx.call_activity("a", time.time())
"""
GOOD = BAD.replace("time.time()", "ctx.current_utc_datetime.isoformat()").replace(
    "import time\n", ""
)


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_precommit_hook_blocks_violation_and_passes_clean_commit(tmp_path: Path) -> None:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists() or shutil.which("git") is None:
        pytest.skip("pre-commit and git are needed")
    head = git(REPO, "rev-parse", "HEAD").stdout.strip()
    assert git(REPO, "cat-file", "-e", f"{head}:.pre-commit-hooks.yaml").returncode == 0
    project = tmp_path / "project"
    project.mkdir()
    for args in (
        ["init", "-q"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "t"],
    ):
        git(project, *args)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n      - id: durable-lint\n"
    )
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(
        [str(pre_commit), "install"], cwd=project, env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    hook_env = dict(env, PATH=f"{pre_commit.parent}{os.pathsep}{env.get('PATH', '')}")

    (project / "flows.py").write_text(BAD)
    git(project, "add", ".")
    blocked = subprocess.run(
        ["git", "commit", "-m", "bad"], cwd=project, env=hook_env, capture_output=True, text=True
    )
    assert blocked.returncode != 0
    assert "flows.py:9:34: DUR001" in blocked.stdout + blocked.stderr

    (project / "flows.py").write_text(GOOD)
    git(project, "add", ".")
    passed = subprocess.run(
        ["git", "commit", "-m", "good"], cwd=project, env=hook_env, capture_output=True, text=True
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(project, "log", "--oneline").stdout.count("\n") == 1
