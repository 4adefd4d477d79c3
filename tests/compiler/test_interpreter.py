"""The graph interpreter on its own: node ids in nondeterminism messages, no libcst at run
time, and graph documents loaded from JSON running like freshly compiled ones."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from durableflow.compiler import compile_source
from durableflow.core import history as h
from durableflow.core.status import RuntimeStatus
from durableflow.ir import CompiledGraph
from durableflow.runtime.executor import replay
from durableflow.runtime.graph_interpreter import graph_orchestrator
from durableflow.testing.equivalence import World, drive

CASES = Path(__file__).parent / "cases"
T0 = datetime(2024, 1, 1, tzinfo=UTC)

SOURCE = """
import durableflow as df
app = df.App()

@app.orchestrator
def chain(ctx: df.OrchestrationContext, x):
    a = yield ctx.call_activity("first", x)
    b = yield ctx.call_activity("second", a)
    return b
"""


def _started() -> list[h.HistoryEvent]:
    return [
        h.OrchestratorStarted(timestamp=T0),
        h.ExecutionStarted(
            timestamp=T0, name="chain", instance_id="i1", execution_id="e1", input=1
        ),
    ]


def test_nondeterminism_message_names_the_graph_node() -> None:
    graph = compile_source(SOURCE)[0]
    past = [*_started(), h.TaskScheduled(timestamp=T0, task_id=0, name="renamed", input=1)]
    result = replay(graph_orchestrator(graph), past, [h.OrchestratorStarted(timestamp=T0)])
    assert result.status is RuntimeStatus.FAILED
    assert result.failure is not None
    assert "at chain/activity:first#0" in result.failure.message


def test_graph_completes_with_the_activity_results() -> None:
    graph = compile_source(SOURCE)[0]
    run = graph_orchestrator(graph)
    first = replay(run, [], _started())
    past = first.new_events
    done = [h.OrchestratorStarted(timestamp=T0), h.TaskCompleted(timestamp=T0, task_id=0, result=5)]
    second = replay(run, past, done)
    past = past + second.new_events
    third = replay(
        run,
        past,
        [h.OrchestratorStarted(timestamp=T0), h.TaskCompleted(timestamp=T0, task_id=1, result=6)],
    )
    assert [a.name for a in first.actions + second.actions] == ["first", "second"]
    assert third.status is RuntimeStatus.COMPLETED and third.output == 6


def test_a_graph_loaded_from_json_runs_like_the_compiled_one() -> None:
    compiled = compile_source((CASES / "kitchen_sink.py").read_text("utf-8"))[0]
    loaded = CompiledGraph.from_json(compiled.to_json())
    world = World(seed=11, failure_rate=0.2)
    cfg = {"items": [1, 2], "mode": "a"}
    assert drive(graph_orchestrator(loaded), cfg, world).history == (
        drive(graph_orchestrator(compiled), cfg, world).history
    )


def test_running_a_graph_never_imports_libcst() -> None:
    golden = CASES / "race.graph.json"
    code = (
        "import sys\n"
        "from durableflow.ir import load_graph\n"
        "from durableflow.runtime.graph_interpreter import graph_orchestrator\n"
        f"graph_orchestrator(load_graph({str(golden)!r}))\n"
        "assert 'libcst' not in sys.modules, 'libcst was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
