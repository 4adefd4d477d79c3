"""Drawing: golden DOT text per case, an instance overlay, and one real ``dot`` run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from durableflow.compiler import compile_source
from durableflow.compiler.render import NODE_SHAPES, STATE_COLORS, render, render_dot
from durableflow.core.history import HistoryEvent, event_from_dict
from durableflow.ir import NODE_KINDS, CompiledGraph
from durableflow.runtime.graph_interpreter import graph_orchestrator, trace_history
from durableflow.testing.equivalence import World, drive

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CASES = sorted((HERE / "cases").glob("*.py"))
UPDATE = os.environ.get("DURABLEFLOW_UPDATE_GOLDENS") == "1"


def _graphs(path: Path) -> list[CompiledGraph]:
    return compile_source(path.read_text("utf-8"), str(path.relative_to(ROOT)))


def _check_golden(name: str, text: str) -> None:
    golden = HERE / "dot" / name
    if UPDATE:
        golden.write_text(text, "utf-8")
    assert golden.exists(), f"missing {golden.name}; run with DURABLEFLOW_UPDATE_GOLDENS=1"
    assert text == golden.read_text("utf-8")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_draws_its_golden_dot(path: Path) -> None:
    for graph in _graphs(path):
        _check_golden(f"{path.stem}.{graph.name}.dot", render_dot(graph))


def test_every_node_kind_has_a_shape_and_every_state_a_colour() -> None:
    assert set(NODE_SHAPES) == set(NODE_KINDS)
    assert set(STATE_COLORS) == {"completed", "running", "failed", "not_reached"}


def _loops_history(steps: int) -> tuple[CompiledGraph, list[HistoryEvent]]:
    graph = _graphs(HERE / "cases" / "loops.py")[0]
    out = drive(graph_orchestrator(graph), ["a", "b", "c"], World(seed=3, failure_rate=0.0))
    return graph, [event_from_dict(e) for e in out.history[:steps]]


def test_overlay_of_a_running_instance_draws_its_golden_dot() -> None:
    graph, history = _loops_history(12)
    _check_golden("loops.overlay.dot", render_dot(graph, trace_history(graph, history)))


def test_trace_counts_loop_iterations_and_marks_states() -> None:
    graph, history = _loops_history(12)
    trace = trace_history(graph, history)
    assert trace.visits["loops/choice:for#0"] == 4  # three items, then the exit
    assert trace.node_state("loops/for#0/body/activity:fetch#0") == "completed"
    assert trace.node_state("loops/while#0/body/activity:wait_a_bit#0") == "running"
    assert trace.node_state("loops/while#1/body/activity:final#0") == "not_reached"
    assert ("loops/assign:total#0", "loops/assign:for#0") in trace.taken


def test_overlay_marks_the_failing_node_failed() -> None:
    graph = _graphs(HERE / "cases" / "failures.py")[0]
    out = drive(graph_orchestrator(graph), {}, World(seed=0, failure_rate=0.0))
    trace = trace_history(graph, [event_from_dict(e) for e in out.history])
    assert trace.status == "FAILED"
    assert trace.node_state(trace.path[-1]) == "failed"


@pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz `dot` is not installed (make install provides it)",
)
def test_real_dot_renders_svg() -> None:
    graph = _graphs(HERE / "cases" / "race.py")[0]
    svg = render(graph, "svg").decode("utf-8")
    assert svg.lstrip().startswith("<?xml") and "race/wait_event:Approval#0" in svg


RETRY_AND_BUNDLE = """
from datetime import timedelta
import durableflow as df
app = df.App()

RETRY = df.RetryPolicy(first_interval=timedelta(seconds=5), max_attempts=4, backoff_coefficient=2.0)


@app.orchestrator
def pipeline(ctx: df.OrchestrationContext, job):
    ctx.set_custom_status("starting")
    try:
        a = yield ctx.call_activity("extract", job, retry=RETRY)
        b = yield ctx.call_activity("transform", a)
        c = yield ctx.call_activity("load", b)
        yield ctx.create_timer(timedelta(minutes=10))
    except df.TaskFailedError:
        yield ctx.call_activity("alert", job)
        return None
    if c is not None and job.get("notify_everyone_in_the_organisation") and len(str(c)) > 3:
        yield ctx.call_activity("notify", c)
    return c
"""


def _pipeline() -> CompiledGraph:
    return compile_source(RETRY_AND_BUNDLE)[0]


def test_retry_timer_status_bundles_and_legend_draw_their_golden_dot() -> None:
    _check_golden("pipeline.dot", render_dot(_pipeline()))


def test_retry_settings_and_timer_durations_are_on_their_nodes() -> None:
    dot = render_dot(_pipeline()).replace("\n", " ")
    assert "retry: 4 attempts, first timedelta(seconds=5), backoff_coefficient=2.0" in dot
    assert "timer, fires after timedelta(minutes=10)" in dot


def test_long_guards_are_wrapped_not_cut() -> None:
    dot = render_dot(_pipeline())
    assert "..." not in "".join(
        line for line in dot.splitlines() if "label=" in line and "->" in line
    )
    assert "notify_everyone_in_the_organisation" in dot


def test_custom_status_is_drawn_as_a_status_not_an_assignment() -> None:
    dot = render_dot(_pipeline())
    assert "set_custom_status('starting')" in dot and "shape=tab" in dot


def test_error_edges_into_one_handler_are_bundled() -> None:
    dot = render_dot(_pipeline())
    assert dot.count("\tbundle0 [") == 1 and dot.count("-> bundle0") == 4
    assert dot.count("label=TaskFailedError") == 1


def test_a_completed_race_draws_no_node_running() -> None:
    graph = _graphs(HERE / "cases" / "race.py")[0]
    for seed in range(20):
        world = World(seed=seed, events=("Approval",), failure_rate=0.0)
        out = drive(graph_orchestrator(graph), {"hours": 72}, world, name="race")
        trace = trace_history(graph, [event_from_dict(e) for e in out.history])
        if trace.status == "COMPLETED":
            break
    assert trace.status == "COMPLETED"
    assert {trace.node_state(n) for n in trace.visits} == {"completed"}


def _big_graph() -> CompiledGraph:
    steps = "\n".join(
        f'        r{i} = yield ctx.call_activity("step{i}", r{i - 1})\n'
        f"        if r{i} == {i}:\n"
        f'            yield ctx.call_activity("note{i}", r{i})'
        for i in range(1, 17)
    )
    source = (
        "import durableflow as df\napp = df.App()\n\n@app.orchestrator\n"
        "def big(ctx: df.OrchestrationContext, r0):\n    try:\n"
        + steps
        + "\n    except df.TaskFailedError:\n        yield ctx.call_activity('undo', r0)\n"
        "        return None\n    return r16\n"
    )
    return compile_source(source)[0]


@pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz `dot` is not installed (make install provides it)",
)
def test_real_dot_renders_an_svg_of_a_graph_of_more_than_50_nodes() -> None:
    graph = _big_graph()
    nodes = list(graph.nodes())
    assert len(nodes) > 50
    svg = render(graph, "svg").decode("utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert all(node.id in svg for node in nodes)
    assert svg.count("TaskFailedError") == 1  # 32 error edges drawn as one bundle
