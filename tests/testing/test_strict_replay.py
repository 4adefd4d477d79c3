"""Strict replay: every prefix must create the recorded actions, inputs included."""

from __future__ import annotations

import importlib
import linecache
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import durableflow as df
from durableflow.core import history as h
from durableflow.core.errors import HistoryFormatError, UnknownFunctionError
from durableflow.runtime import replay
from durableflow.runtime.client import Client
from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker
from durableflow.testing.strict_replay import (
    ActionRecord,
    Divergence,
    check_actions,
    check_output,
    load_history,
    strict_replay,
)
from tests.runtime.events import done, raised, started, step

Ctx = df.OrchestrationContext
HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def record(
    fn: Callable[..., Any], input: Any, *steps: list[h.HistoryEvent]
) -> list[h.HistoryEvent]:
    """The history a worker writes running ``fn`` over ``steps`` (after the start)."""
    history: list[h.HistoryEvent] = []
    for new in (started(input=input), *steps):
        history += replay(fn, history, new).new_events
    return history


def line_text(where: str | None) -> str:
    assert where is not None
    path, _, number = where.rpartition(":")
    return linecache.getline(path, int(number)).strip()


def chain(ctx: Ctx, n: int) -> Any:
    a = yield ctx.call_activity("inc", n)
    b = yield ctx.call_activity("inc", a)
    return b


def chain_history() -> list[h.HistoryEvent]:
    return record(chain, 1, step(1, done(0, 2)), step(2, done(1, 3)))


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_unchanged_code_replays_its_own_history(every_prefix: bool) -> None:
    assert strict_replay(chain, chain_history(), every_prefix=every_prefix) is None


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_changed_input_is_a_divergence_the_runtime_would_accept(every_prefix: bool) -> None:
    def chain_plus_one(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        b = yield ctx.call_activity("inc", a + 1)
        return b

    d = strict_replay(chain_plus_one, chain_history(), every_prefix=every_prefix)
    assert d is not None and d.kind == "action" and d.sequence_number == 1
    assert d.recorded == ActionRecord("activity", "inc", 2)
    assert d.new == ActionRecord("activity", "inc", 3)
    assert line_text(d.line) == 'b = yield ctx.call_activity("inc", a + 1)'


def test_renamed_activity_names_both_calls_and_the_line() -> None:
    def renamed(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        b = yield ctx.call_activity("increment", a)
        return b

    d = strict_replay(renamed, chain_history())
    assert d is not None and d.sequence_number == 1
    assert d.new is not None and d.new.name == "increment"
    msg = d.message()
    assert "call_activity('inc', input=2)" in msg
    assert "call_activity('increment', input=2)" in msg
    assert "Fix:" in msg and d.line is not None and d.line in msg


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_inserted_activity_diverges_at_its_sequence_number(every_prefix: bool) -> None:
    def inserted(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        yield ctx.call_activity("audit", a)
        b = yield ctx.call_activity("inc", a)
        return b

    d = strict_replay(inserted, chain_history(), every_prefix=every_prefix)
    assert d is not None and d.sequence_number == 1
    assert d.recorded == ActionRecord("activity", "inc", 2)
    assert d.new == ActionRecord("activity", "audit", 2)


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_removed_activity_is_a_recorded_action_the_code_no_longer_creates(
    every_prefix: bool,
) -> None:
    def shorter(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        return a

    d = strict_replay(shorter, chain_history(), every_prefix=every_prefix)
    assert d is not None and d.sequence_number == 1
    assert d.recorded == ActionRecord("activity", "inc", 2) and d.new is None
    assert "creates no task there" in d.message()


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_action_after_the_recorded_end_is_extra(every_prefix: bool) -> None:
    def longer(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        b = yield ctx.call_activity("inc", a)
        c = yield ctx.call_activity("inc", b)
        return c

    d = strict_replay(longer, chain_history(), every_prefix=every_prefix)
    assert d is not None and d.sequence_number == 2 and d.recorded is None
    assert d.new == ActionRecord("activity", "inc", 3)
    assert "never recorded" in d.message()


def test_different_output_is_an_output_divergence() -> None:
    def doubled(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        b = yield ctx.call_activity("inc", a)
        return b * 2

    history = chain_history()
    assert check_actions(doubled, history) is None
    d = check_output(doubled, history)
    assert d is not None and d.kind == "output" and d.sequence_number is None
    assert d.recorded_outcome is not None and d.recorded_outcome.value == 3
    assert d.new_outcome is not None and d.new_outcome.value == 6
    assert strict_replay(doubled, history) == d


def test_failing_where_history_completed_is_an_output_divergence() -> None:
    def raises_at_end(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        yield ctx.call_activity("inc", a)
        raise ValueError("no")

    d = strict_replay(raises_at_end, chain_history())
    assert d is not None and d.kind == "output"
    assert d.new_outcome is not None and d.new_outcome.status is df.RuntimeStatus.FAILED
    assert "ValueError: no" in d.message()


@pytest.mark.parametrize(
    ("recorded", "new"), [(1, 1.0), (1, True), ([1, 2], [2, 1]), ({"a": 1}, {"a": 1, "b": 2})]
)
def test_inputs_compare_as_json_values_types_included(recorded: Any, new: Any) -> None:
    def calls(value: Any) -> Callable[..., Any]:
        def orch(ctx: Ctx, _: Any) -> Any:
            result = yield ctx.call_activity("f", value)
            return result

        return orch

    history = record(calls(recorded), None, step(1, done(0, "r")))
    assert strict_replay(calls(recorded), history) is None
    d = strict_replay(calls(new), history)
    assert d is not None and d.sequence_number == 0


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_branch_on_is_replaying_shows_in_a_later_prefix(every_prefix: bool) -> None:
    def leaky(ctx: Ctx, _: Any) -> Any:
        a = yield ctx.call_activity("f", {"replaying": ctx.is_replaying})
        b = yield ctx.call_activity("g", a)
        return b

    history = record(leaky, None, step(1, done(0, 1)), step(2, done(1, 2)))
    d = strict_replay(leaky, history, every_prefix=every_prefix)
    assert d is not None and d.sequence_number == 0
    assert d.recorded == ActionRecord("activity", "f", {"replaying": False})
    assert d.new == ActionRecord("activity", "f", {"replaying": True})


def test_timer_due_time_from_the_wall_clock_diverges() -> None:
    def wall_clock_timer(ctx: Ctx, _: Any) -> Any:
        yield ctx.create_timer(datetime.now(UTC) + timedelta(hours=1))
        return "late"

    history = record(wall_clock_timer, None)
    d = check_actions(wall_clock_timer, history)
    assert d is not None and d.recorded is not None and d.recorded.kind == "timer"
    assert d.new is not None and d.new.input != d.recorded.input


def test_sub_orchestration_with_a_random_child_id_diverges() -> None:
    def random_child(ctx: Ctx, _: Any) -> Any:
        out = yield ctx.call_sub_orchestrator("child", 1, instance_id=str(uuid.uuid4()))
        return out

    d = strict_replay(random_child, record(random_child, None))
    assert d is not None and d.recorded is not None and d.new is not None
    assert d.recorded.instance_id != d.new.instance_id


def test_parked_history_replays_and_must_stay_parked() -> None:
    def approval(ctx: Ctx, _: Any) -> Any:
        yield ctx.call_activity("ask")
        answer = yield ctx.wait_for_external_event("approved")
        return answer

    def no_wait(ctx: Ctx, _: Any) -> Any:
        yield ctx.call_activity("ask")
        return None

    parked = record(approval, None, step(1, done(0)))
    assert strict_replay(approval, parked) is None
    d = strict_replay(no_wait, parked)
    assert d is not None and d.kind == "output"
    assert d.recorded_outcome is not None
    assert d.recorded_outcome.status is df.RuntimeStatus.RUNNING
    assert "still running" in d.message()


@pytest.mark.parametrize("every_prefix", [True, False], ids=["every", "session"])
def test_first_divergence_is_from_the_shortest_prefix(every_prefix: bool) -> None:
    def picks(ctx: Ctx, _: Any) -> Any:
        first = yield ctx.call_activity("a", random.random())
        second = yield ctx.call_activity("b", random.random())
        return [first, second]

    history = record(picks, None, step(1, done(0)), step(2, done(1)))
    d = strict_replay(picks, history, every_prefix=every_prefix)
    assert d is not None and d.sequence_number == 0 and d.recorded is not None


def test_app_resolves_activities_passed_as_functions() -> None:
    module = importlib.import_module("examples.function_chaining")
    events = record(
        module.hello_cities,
        None,
        step(1, done(0, "Hello Tokyo!")),
        step(2, done(1, "Hello Seattle!")),
        step(3, done(2, "Hello London!")),
    )
    start = events[1]
    assert isinstance(start, h.ExecutionStarted)
    events[1] = h.ExecutionStarted(
        timestamp=start.timestamp, name="hello_cities", instance_id="i1", execution_id="e1"
    )
    assert strict_replay(module.app, events) is None


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("function_chaining", "examples.function_chaining"),
        ("fan_out_fan_in", "examples.fan_out_fan_in"),
        ("saga_compensation", "examples.saga"),
        ("human_interaction_timeout", "examples.human_interaction"),
        ("human_interaction_approved", "examples.human_interaction"),
    ],
)
def test_golden_histories_replay_strictly(name: str, module: str) -> None:
    app = importlib.import_module(module).app
    assert strict_replay(app, HISTORIES / f"{name}.json") is None


def test_broken_golden_history_names_the_recorded_and_new_action() -> None:
    app = importlib.import_module("examples.function_chaining").app
    d = strict_replay(app, HISTORIES / "broken_function_chaining.json")
    assert d is not None and d.recorded is not None and d.new is not None
    assert {d.recorded.name, d.new.name} == {"say_hello", "say_goodbye"}


def test_history_recorded_by_a_runtime_replays_from_its_json() -> None:
    module = importlib.import_module("examples.human_interaction")
    with df.Runtime(module.app, "memory://", clock=df.FakeClock()) as rt:
        iid = rt.client.start_new("approval_workflow", input={"request": "r1"})
        rt.client.raise_event(iid, "Approval", "yes")
        rt.client.wait_for_completion(iid, timeout=30)
        text = rt.client.get_history(iid).to_json()
    assert strict_replay(module.app, text) is None


def test_sqlite_history_of_a_parked_instance_replays(tmp_path: Path) -> None:
    app = df.App()

    @app.activity
    def ask(x: int) -> int:
        return x + 1

    @app.orchestrator
    def wait_after_ask(ctx: Ctx, n: int) -> Any:
        got = yield ctx.call_activity(ask, n)
        answer = yield ctx.wait_for_external_event("go")
        return [got, answer]

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        client = Client(store, app=app)
        worker = Worker(app, store, activity_concurrency=0)
        iid = client.start_new(wait_after_ask, input=4)
        while worker.run_one_orchestration_step() or worker.run_one_activity():
            pass
        doc = client.get_history(iid)
    finally:
        store.close()
    assert any(isinstance(e, h.TaskCompleted) for e in doc.events)
    assert strict_replay(app, doc) is None


def test_events_without_a_start_are_rejected_with_the_fix() -> None:
    with pytest.raises(HistoryFormatError, match="ExecutionStarted"):
        load_history([raised("x")])


def test_missing_file_is_a_history_format_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryFormatError, match="cannot read"):
        load_history(tmp_path / "nope.json")


def test_app_without_the_orchestrator_is_an_unknown_function() -> None:
    with pytest.raises(UnknownFunctionError):
        strict_replay(df.App(), chain_history())


def test_runtime_rules_accept_a_changed_input() -> None:
    def chain_plus_one(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        b = yield ctx.call_activity("inc", a + 1)
        return b

    history = chain_history()
    assert check_actions(chain_plus_one, history, compare_inputs=False) is None
    assert check_actions(chain_plus_one, history) is not None


def test_runtime_rules_accept_new_actions_past_the_end_of_a_parked_history() -> None:
    def wait_then_inc(ctx: Ctx, _: Any) -> Any:
        yield ctx.call_activity("ask")
        answer = yield ctx.wait_for_external_event("go")
        return answer

    def inc_then_wait(ctx: Ctx, _: Any) -> Any:
        yield ctx.call_activity("ask")
        yield ctx.call_activity("note")
        answer = yield ctx.wait_for_external_event("go")
        return answer

    parked = record(wait_then_inc, None, step(1, done(0)))
    assert strict_replay(inc_then_wait, parked, compare_inputs=False) is None
    d = strict_replay(inc_then_wait, parked)
    assert d is not None and d.recorded is None and d.new == ActionRecord("activity", "note", None)


def test_runtime_rules_reject_new_actions_after_the_recorded_end() -> None:
    def longer(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n)
        b = yield ctx.call_activity("inc", a)
        yield ctx.call_activity("inc", b)
        return b

    d = strict_replay(longer, chain_history(), compare_inputs=False)
    assert d is not None and d.sequence_number == 2 and d.recorded is None


def test_action_created_a_step_earlier_than_recorded_is_a_strict_divergence() -> None:
    def one_by_one(ctx: Ctx, _: Any) -> Any:
        a = yield ctx.call_activity("a")
        b = yield ctx.call_activity("b")
        return [a, b]

    def both_at_once(ctx: Ctx, _: Any) -> Any:
        first, second = ctx.call_activity("a"), ctx.call_activity("b")
        a = yield first
        b = yield second
        return [a, b]

    history = record(one_by_one, None, step(1, done(0, 1)), step(2, done(1, 2)))
    assert check_actions(both_at_once, history, compare_inputs=False) is None
    d = check_actions(both_at_once, history)
    assert d is not None and d.sequence_number == 1 and d.recorded == d.new
    assert "at a later step" in d.message()


def test_divergence_reads_back_from_its_json_form() -> None:
    import json

    def doubled(ctx: Ctx, n: int) -> Any:
        a = yield ctx.call_activity("inc", n + 1)
        return a

    for d in (strict_replay(doubled, chain_history()), check_output(chain, chain_history()[:-1])):
        assert d is not None
        assert Divergence.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_malformed_divergence_dict_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a serialized Divergence"):
        Divergence.from_dict({"kind": "action"})
