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
