"""The pytest plugin works in a project of its own, with no configuration."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

WORKFLOWS = """
from datetime import timedelta

import durableflow as df

app = df.App()


@app.activity
def remind(who: str) -> str:
    return f"reminded {who}"


@app.orchestrator
def nag(ctx, who):
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=48))
    return (yield ctx.call_activity(remind, who))
"""

TESTS = """
from datetime import timedelta

from durableflow.testing import replay_fuzz, run_orchestration
from durableflow.testing.drive import drive_to_completion

from workflows import app


def test_the_reminder_goes_out_after_two_days():
    run = run_orchestration(app, "nag", "ann", activities={"remind": "ok"})
    assert run.output == "ok" and run.elapsed == timedelta(hours=48)


def test_nag_passes_the_replay_properties(durable_examples):
    assert replay_fuzz(app, "nag", "ann").examples == durable_examples == 7


def test_the_fixtures_give_a_runtime_on_the_virtual_clock(durable_runtime, virtual_clock):
    rt = durable_runtime(app)
    iid = rt.client.start_new("nag", input="bo")
    assert drive_to_completion(rt, iid).output == "reminded bo"
    assert rt.clock is virtual_clock
"""


def test_the_plugin_runs_in_a_throwaway_project(tmp_path: Path) -> None:
    (tmp_path / "workflows.py").write_text(textwrap.dedent(WORKFLOWS))
    (tmp_path / "test_workflows.py").write_text(textwrap.dedent(TESTS))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durable-examples", "7"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_the_plugin_rejects_a_bad_example_count(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_ok():\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durable-examples", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "--durable-examples must be at least 1" in done.stderr
