"""Acceptance: `durable fuzz` catches every buggy orchestrator and passes every example.

Each run is a real `durable` process, as in CI: module-level state of one run must not
leak into the next, and the process-conditions check starts its own interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BUGGY = [
    ("wall_clock", "process-conditions", []),
    ("random_pick", "strict-replay", []),
    ("set_order", "process-conditions", []),
    ("uuid_input", "strict-replay", []),
    ("module_counter", "strict-replay", []),
    ("versioned_v2", "strict-replay", ["--previous", "tests.testing.buggy.versioned_v1:app"]),
    ("unyielded_task", "nothing-left-open", []),
    ("timer_race", "nothing-left-open", []),
    ("endless_loop", "bounded", []),
]

EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def durable(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "durableflow.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(("module", "prop", "extra"), BUGGY, ids=[b[0] for b in BUGGY])
def test_durable_fuzz_catches_the_bug_and_the_saved_history_reproduces_it(
    module: str, prop: str, extra: list[str], tmp_path: Path
) -> None:
    app = f"tests.testing.buggy.{module}:app"
    fuzz = durable("fuzz", app, "--save", str(tmp_path), *extra)
    assert fuzz.returncode == 1, fuzz.stdout + fuzz.stderr
    assert f"property {prop!r} failed" in fuzz.stdout
    saved = list(tmp_path.glob("*.json"))
    assert len(saved) == 1
    replay = durable("replay", str(saved[0]), "--app", app)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert f"property {prop!r} still fails" in replay.stdout


def test_the_uncancelled_timer_counterexample_has_at_most_12_events(tmp_path: Path) -> None:
    fuzz = durable("fuzz", "tests.testing.buggy.timer_race:app", "--save", str(tmp_path))
    saved = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert len(saved["events"]) <= 12
    assert f"minimal history ({len(saved['events'])} events" in fuzz.stdout


@pytest.mark.parametrize("example", EXAMPLES)
def test_durable_fuzz_passes_every_example(example: str, tmp_path: Path) -> None:
    fuzz = durable("fuzz", f"examples.{example}:app", "--save", str(tmp_path))
    assert fuzz.returncode == 0, fuzz.stdout + fuzz.stderr
    assert "ok (graph checked" in fuzz.stdout
    assert not list(tmp_path.iterdir())
