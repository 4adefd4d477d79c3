"""replay_fuzz: clean orchestrators pass, broken ones fail shrunk, with a saved history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

import durableflow as df
from durableflow.testing import FuzzFailure, recheck_document, replay_fuzz
from examples import function_chaining, human_interaction, saga
from tests.testing.buggy import timer_race

REQUEST = {"id": "r1", "approver": "bo", "manager": "cy"}


def test_a_correct_orchestrator_passes_every_property(tmp_path: Path) -> None:
    result = replay_fuzz(function_chaining.app, "hello_cities", examples=30, save_to=tmp_path)
    assert result.examples == 30
    assert "strict-replay" in result.properties and "process-conditions" in result.properties
    assert result.graph_checked
    assert not list(tmp_path.iterdir())


def test_the_72_hour_escalation_path_fuzzes_in_well_under_a_second_per_example() -> None:
    result = replay_fuzz(
        human_interaction.app, "approval_workflow", REQUEST, examples=40, conditions=False
    )
    assert result.seconds / result.examples < 0.1


def test_a_failure_is_shrunk_saved_and_rechecked_to_the_same_property(tmp_path: Path) -> None:
    with pytest.raises(FuzzFailure) as caught:
        replay_fuzz(timer_race.app, "await_reply", save_to=tmp_path, examples=50)
    report = caught.value.report
    assert report.violation.property == "nothing-left-open"
    assert len(report.run.history) <= 12
    assert report.saved is not None and report.saved.parent == tmp_path
    saved = json.loads(report.saved.read_text())
    problem = recheck_document(timer_race.app, saved)
    assert problem is not None and problem.property == "nothing-left-open"


def test_a_saved_failure_rechecks_clean_once_the_bug_is_fixed(tmp_path: Path) -> None:
    with pytest.raises(FuzzFailure) as caught:
        replay_fuzz(timer_race.app, "await_reply", save_to=tmp_path, examples=50)
    assert caught.value.report.saved is not None
    saved = json.loads(caught.value.report.saved.read_text())
    fixed = df.App()

    @fixed.orchestrator(name="await_reply")
    def await_reply(ctx: df.OrchestrationContext, _: Any) -> Any:
        reply = ctx.wait_for_external_event("Reply", timeout=ctx.current_utc_datetime)
        return (yield reply)

    assert recheck_document(fixed, saved) is None


def test_the_report_shows_a_timeline_with_source_lines() -> None:
    with pytest.raises(FuzzFailure) as caught:
        replay_fuzz(timer_race.app, "await_reply", examples=50, save_to=None)
    text = str(caught.value)
    assert "property 'nothing-left-open' failed" in text
    assert "Likely cause:" in text and "Fix:" in text
    assert "TimerCreated" in text and "timer_race.py:" in text


def test_activity_results_can_come_from_a_strategy() -> None:
    app = df.App()

    @app.orchestrator
    def guarded(ctx: df.OrchestrationContext, _: Any) -> Any:
        value = yield ctx.call_activity("score")
        if value > 100:  # a TypeError would fail the instance, not a property
            return "high"
        return "low"

    result = replay_fuzz(
        app, "guarded", activities={"score": st.integers(0, 200)}, examples=20, graph=False
    )
    assert result.examples == 20


def test_stubs_fix_an_activitys_outcome() -> None:
    result = replay_fuzz(
        saga.app,
        "book_trip",
        {"id": "t"},
        activities={"book_car": LookupError("no cars")},
        examples=20,
        conditions=False,
    )
    assert result.examples == 20


def test_inputs_can_be_a_strategy() -> None:
    result = replay_fuzz(
        function_chaining.app, "hello_cities", st.none() | st.integers(), examples=10
    )
    assert result.examples == 10


def test_an_unknown_orchestrator_is_a_clear_error() -> None:
    with pytest.raises(df.UnknownFunctionError):
        replay_fuzz(function_chaining.app, "missing")


def test_a_fixed_seed_gives_the_same_counterexample(tmp_path: Path) -> None:
    runs = []
    for _ in range(2):
        with pytest.raises(FuzzFailure) as caught:
            replay_fuzz(timer_race.app, "await_reply", seed=5, examples=50, save_to=tmp_path)
        runs.append(caught.value.report.run.history)
    assert runs[0] == runs[1]
