"""run_orchestration: the real worker and memory store on a virtual clock, stubs and events."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

import durableflow as df
from durableflow.core import history as h
from durableflow.core.errors import UnknownFunctionError
from durableflow.testing import RaiseEvent, run_orchestration, sequence
from examples import function_chaining, human_interaction, saga

REQUEST = {"id": "r1", "approver": "bo", "manager": "cy"}


def test_a_72_hour_timeout_escalates_in_milliseconds_of_real_time() -> None:
    began = time.perf_counter()
    run = run_orchestration(human_interaction.app, "approval_workflow", REQUEST)
    assert time.perf_counter() - began < 1.0
    assert run.status is df.RuntimeStatus.COMPLETED
    assert run.output == {"outcome": "escalated", "detail": "escalated r1 to cy"}
    assert run.elapsed == timedelta(hours=72)


def test_an_event_at_a_virtual_time_wins_the_race() -> None:
    run = run_orchestration(
        human_interaction.app,
        "approval_workflow",
        REQUEST,
        events=[RaiseEvent("Approval", "yes", at=timedelta(hours=1))],
    )
    assert run.output == {"outcome": "approved", "detail": "processed yes"}
    assert run.elapsed == timedelta(hours=1)


def test_an_event_after_a_step_count_is_raised_then() -> None:
    run = run_orchestration(
        human_interaction.app,
        "approval_workflow",
        REQUEST,
        events=[RaiseEvent("Approval", "no", after_step=2)],
    )
    assert run.output["outcome"] == "approved"
    raised = [e for e in run.history if isinstance(e, h.EventRaised)]
    assert [e.input for e in raised] == ["no"]


def test_a_value_stub_replaces_the_activity() -> None:
    run = run_orchestration(function_chaining.app, "hello_cities", activities={"say_hello": "hi"})
    assert run.output == ["hi", "hi", "hi"]
    assert run.calls.inputs("say_hello") == ["Tokyo", "Seattle", "London"]


def test_a_function_stub_gets_the_activity_input() -> None:
    run = run_orchestration(
        function_chaining.app, "hello_cities", activities={"say_hello": str.upper}
    )
    assert run.output == ["TOKYO", "SEATTLE", "LONDON"]


def test_a_sequence_fails_twice_then_succeeds_under_a_retry_policy() -> None:
    run = run_orchestration(
        saga.app,
        "book_trip",
        {"id": "t1"},
        activities={
            "book_flight": sequence(ConnectionError("down"), ConnectionError("down"), "F1"),
        },
    )
    assert run.output == {"booked": True, "bookings": ["F1", "hotel-t1", "car-t1"]}
    assert run.calls.count("book_flight") == 3


def test_an_exception_stub_fails_the_activity_for_good() -> None:
    run = run_orchestration(
        saga.app, "book_trip", {"id": "t2"}, activities={"book_car": LookupError}
    )
    assert run.output["booked"] is False
    assert run.calls.count("book_car") == 3


def test_an_unhandled_activity_failure_fails_the_instance_with_its_type() -> None:
    run = run_orchestration(
        function_chaining.app, "hello_cities", activities={"say_hello": KeyError("gone")}
    )
    assert run.status is df.RuntimeStatus.FAILED
    assert run.failure is not None and "KeyError" in run.failure.message


def test_a_crash_after_every_step_resumes_from_the_store_with_the_same_output() -> None:
    clean = run_orchestration(function_chaining.app, "hello_cities")
    crashed = run_orchestration(function_chaining.app, "hello_cities", crash_after_steps=[1, 2, 3])
    assert crashed.output == clean.output
    assert [type(e) for e in crashed.history] == [type(e) for e in clean.history]
    assert crashed.calls.calls == clean.calls.calls


def test_an_expired_lease_reruns_the_activity_once_and_keeps_one_result() -> None:
    run = run_orchestration(function_chaining.app, "hello_cities", expire_leases=["say_hello"])
    assert run.calls.inputs("say_hello") == ["Tokyo", "Tokyo", "Seattle", "London"]
    assert run.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert run.elapsed >= timedelta(seconds=30)


def test_an_instance_waiting_for_an_event_nobody_raises_is_reported_stuck() -> None:
    app = df.App()

    @app.orchestrator
    def waits(ctx: df.OrchestrationContext, _: Any) -> Any:
        return (yield ctx.wait_for_external_event("Go"))

    run = run_orchestration(app, "waits")
    assert run.stuck and run.status is df.RuntimeStatus.RUNNING


def test_a_loop_that_never_ends_exhausts_the_step_budget() -> None:
    app = df.App()

    @app.orchestrator
    def forever(ctx: df.OrchestrationContext, _: Any) -> Any:
        while True:
            yield ctx.create_timer(timedelta(minutes=1))

    run = run_orchestration(app, "forever", max_steps=50)
    assert run.exhausted and run.steps == 50


def test_the_history_exports_as_a_replayable_document() -> None:
    run = run_orchestration(function_chaining.app, "hello_cities")
    doc = h.HistoryDocument.from_json(run.document().to_json())
    assert doc.name == "hello_cities" and len(doc.events) == len(run.history)


def test_the_apps_own_activities_are_left_unchanged() -> None:
    before = dict(function_chaining.app.activities)
    run_orchestration(function_chaining.app, "hello_cities", activities={"say_hello": "x"})
    assert function_chaining.app.activities == before


def test_an_unknown_orchestrator_is_a_clear_error() -> None:
    with pytest.raises(UnknownFunctionError):
        run_orchestration(function_chaining.app, "nope")


def test_a_lost_run_of_an_unregistered_activity_fails_like_any_other_run() -> None:
    app = df.App()

    @app.orchestrator
    def calls_by_name(ctx: df.OrchestrationContext, _: Any) -> Any:
        return (yield ctx.call_activity("not_registered"))

    run = run_orchestration(app, "calls_by_name", expire_leases=["not_registered"])
    assert run.status is df.RuntimeStatus.FAILED
    assert run.failure is not None and "not_registered" in run.failure.message
