"""Each property on its own: it holds on a correct orchestrator and names the bug otherwise."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import durableflow as df
from durableflow.testing import (
    check_bounded,
    check_crash_equivalence,
    check_graph_equivalence,
    check_nothing_left_open,
    check_strict_replay,
    simulate,
)
from durableflow.testing.world import RandomSource
from examples import human_interaction

app = df.App()


@app.orchestrator
def steady(ctx: df.OrchestrationContext, n: int) -> Any:
    a = yield ctx.call_activity("double", n)
    b = yield ctx.call_activity("double", a)
    return b


@app.orchestrator
def dice(ctx: df.OrchestrationContext, _: Any) -> Any:
    return (yield ctx.call_activity("roll", random.random()))


_seen: list[int] = []


@app.orchestrator
def remembers(ctx: df.OrchestrationContext, _: Any) -> Any:
    _seen.append(1)
    yield ctx.call_activity("first")
    if len(_seen) == 1:
        yield ctx.call_activity("only_once")
    return len(_seen)


def run(fn: Any, value: Any = None, seed: int = 0, **kw: Any) -> Any:
    return simulate(fn, value, RandomSource(seed, failure_rate=0.0), name=fn.__name__, **kw)


def test_strict_replay_holds_for_a_deterministic_orchestrator() -> None:
    assert check_strict_replay(app, run(steady, 3), name="steady") is None


def test_strict_replay_names_the_differing_input_and_its_line() -> None:
    found = check_strict_replay(app, run(dice), name="dice")
    assert found is not None and found.property == "strict-replay"
    assert "roll" in found.what and found.seq == 2
    assert found.where is not None and found.where.endswith(f":{dice.__code__.co_firstlineno + 2}")


def test_crash_equivalence_holds_when_replay_rebuilds_the_same_state() -> None:
    class Crash(RandomSource):
        def flag(self, what: str) -> bool:
            return what == "crash"

    clean = run(steady, 1)
    problem, crashed = check_crash_equivalence(steady, 1, clean, Crash(0), name="steady")
    assert problem is None and crashed.crashes


def test_crash_equivalence_catches_module_state_the_replay_does_not_rebuild() -> None:
    class Crash(RandomSource):
        def flag(self, what: str) -> bool:
            return what == "crash"

    _seen.clear()
    clean = run(remembers)
    problem, _ = check_crash_equivalence(remembers, None, clean, Crash(0), name="remembers")
    assert problem is not None and problem.property == "crash-equivalence"


def test_a_loop_that_never_ends_is_reported_with_its_lines() -> None:
    def polls(ctx: df.OrchestrationContext, _: Any) -> Any:
        while (yield ctx.call_activity("status")) != "never":
            yield ctx.create_timer(timedelta(minutes=5))

    found = check_bounded(run(polls, max_steps=60), 60)
    assert found is not None and found.property == "bounded"
    first = polls.__code__.co_firstlineno
    assert f":{first + 1}" in found.what and f":{first + 2}" in found.what


def test_an_ended_run_is_bounded() -> None:
    assert check_bounded(run(steady, 1), 40) is None


def test_a_task_created_and_never_yielded_is_reported_where_it_was_created() -> None:
    def fire_and_forget(ctx: df.OrchestrationContext, _: Any) -> Any:
        ctx.call_activity("audit")
        return (yield ctx.call_activity("work"))

    found = check_nothing_left_open(run(fire_and_forget))
    assert found is not None and "never yielded" in found.what
    assert found.where is not None
    assert found.where.endswith(f":{fire_and_forget.__code__.co_firstlineno + 1}")


def test_a_timer_that_lost_a_race_and_was_not_cancelled_is_reported() -> None:
    def race(ctx: df.OrchestrationContext, _: Any) -> Any:
        timer = ctx.create_timer(timedelta(hours=1))
        reply = ctx.wait_for_external_event("Reply")
        yield ctx.task_any([reply, timer])
        return "done"

    class EventFirst(RandomSource):
        def choose(self, choices: Any) -> int:
            return next(i for i, c in enumerate(choices) if c.kind == "event")

    found = check_nothing_left_open(simulate(race, None, EventFirst(0), events=("Reply",)))
    assert found is not None and "never cancelled" in found.what


def test_an_activity_whose_result_nobody_reads_is_reported() -> None:
    def first_of_two(ctx: df.OrchestrationContext, _: Any) -> Any:
        a = ctx.call_activity("fast")
        b = ctx.call_activity("slow")
        winner = yield ctx.task_any([a, b])
        return winner.get_result()

    class FirstTask(RandomSource):
        def choose(self, choices: Any) -> int:
            return 0

    found = check_nothing_left_open(simulate(first_of_two, None, FirstTask(0)))
    assert found is not None and "never read" in found.what and "'slow'" in found.what


def test_a_cancelled_losing_timer_leaves_nothing_open() -> None:
    request = {"id": "r", "approver": "a", "manager": "m"}
    for seed in range(10):
        done = run(human_interaction.approval_workflow, request, seed, events=("Approval",))
        assert check_nothing_left_open(done) is None


def test_the_compiled_graph_replays_the_same_decisions_as_the_generator() -> None:
    from durableflow.compiler import compile_file
    from durableflow.runtime.graph_interpreter import graph_orchestrator

    graph = compile_file(human_interaction.__file__)[0]
    request = {"id": "r", "approver": "a", "manager": "m"}
    clean = run(human_interaction.approval_workflow, request, 4, events=("Approval",))
    found = check_graph_equivalence(
        graph_orchestrator(graph), request, clean, name="approval_workflow", events=("Approval",)
    )
    assert found is None


def test_store_crash_resume_holds_on_the_real_worker_for_a_retrying_saga() -> None:
    from durableflow.testing import check_store_crash_resume, sequence
    from examples import saga

    flaky = {"book_flight": sequence(ConnectionError("timed out"), "F1"), "book_car": LookupError}
    found = check_store_crash_resume(saga.app, "book_trip", {"id": "t"}, activities=flaky)
    assert found is None


def test_store_crash_resume_catches_state_a_new_worker_does_not_have() -> None:
    from durableflow.testing import check_store_crash_resume

    app = df.App()
    live: dict[str, int] = {}

    @app.orchestrator
    def counts_live_steps(ctx: df.OrchestrationContext, _: Any) -> Any:
        live["n"] = live.get("n", 0) + 1
        if live["n"] % 2:
            yield ctx.call_activity("odd")
        yield ctx.call_activity("step")
        return "done"

    found = check_store_crash_resume(
        app, "counts_live_steps", None, activities={"odd": 1, "step": 2}
    )
    assert found is not None and found.property == "crash-equivalence"
