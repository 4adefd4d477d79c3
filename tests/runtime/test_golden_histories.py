"""Recorded histories must keep replaying against the examples' current code."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from durableflow.core.errors import HistoryFormatError
from durableflow.core.history import HistoryDocument
from durableflow.runtime.replay_check import replay_document

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
ROOT = HISTORIES.parents[1]
APPS = {
    "function_chaining": "examples.function_chaining",
    "fan_out_fan_in": "examples.fan_out_fan_in",
    "saga_compensation": "examples.saga",
    "human_interaction_timeout": "examples.human_interaction",
    "human_interaction_approved": "examples.human_interaction",
}


@pytest.mark.parametrize("name", sorted(APPS))
def test_golden_history_replays_cleanly(name: str) -> None:
    doc = HistoryDocument.from_json((HISTORIES / f"{name}.json").read_text(), source=name)
    app = importlib.import_module(APPS[name]).app
    report = replay_document(app, doc)
    assert report.ok, report.message


def test_broken_history_reports_nondeterminism() -> None:
    path = HISTORIES / "broken_function_chaining.json"
    doc = HistoryDocument.from_json(path.read_text(), source=str(path))
    report = replay_document(importlib.import_module("examples.function_chaining").app, doc)
    assert not report.ok
    assert "call_activity('say_goodbye')" in report.message
    assert "call_activity('say_hello')" in report.message


def test_durable_replay_cli_exits_1_on_broken_history() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "durableflow.cli",
            "replay",
            str(HISTORIES / "broken_function_chaining.json"),
            "--app",
            "examples.function_chaining:app",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "replay diverged" in proc.stdout


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{not json", "<bad>:1:2: not valid JSON"),
        ('{"format": "other"}', "not a durableflow history"),
        (
            '{"format": "durableflow.history/1", "events": [{"type": "Nope"}]}',
            "events[0]: unknown event type 'Nope'",
        ),
        (
            '{"format": "durableflow.history/1", "instance_id": "i", "name": "n", "events": ['
            '{"type": "OrchestratorStarted", "timestamp": "yesterday"}]}',
            "events[0].timestamp: 'yesterday' is not an ISO 8601 timestamp",
        ),
        (
            '{"format": "durableflow.history/1", "instance_id": "i", "name": "n", "events": ['
            '{"type": "TaskCompleted", "timestamp": "2030-01-01T00:00:00+00:00", "task_id": 0}]}',
            "must open with ExecutionStarted",
        ),
    ],
    ids=["syntax", "format", "event-type", "timestamp", "no-start"],
)
def test_malformed_history_file_names_what_and_where(text: str, where: str) -> None:
    with pytest.raises(HistoryFormatError) as err:
        HistoryDocument.from_json(text, source="<bad>")
    assert where in str(err.value)
