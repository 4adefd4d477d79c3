"""The heart of the compiler: a compiled graph behaves exactly like its source generator.

For every orchestrator of every compiler case and every example that compiles, hypothesis
drives the generator and the graph through the same random worlds (activity results and
failures, event arrivals, timer firings) with the pure replay executor, and the histories,
statuses and outputs must be identical.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durableflow.compiler import CompileFailed, compile_file
from durableflow.core.status import RuntimeStatus
from durableflow.ir import CompiledGraph
from durableflow.testing.equivalence import World, check_equivalence, drive, event_names

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases"

# Inputs for examples that do not define INPUTS themselves (keyed by orchestrator name).
EXAMPLE_INPUTS: dict[str, list[Any]] = {
    "process_order": [{"id": 1, "amount": 10}],
    "periodic_refresh": [{"generation": 0, "last": 2}, {"generation": 2, "last": 2}],
    "fan_out_fan_in": [[1, 2, 3], []],
    "approval_workflow": [{"id": "r1"}],
    "job_monitor": [{"id": "j", "expiry_hours": 2, "interval_minutes": 30}],
    "book_trip": [{"to": "Lisbon"}],
    "nightly_cleanup": [3, 0],
    "provision_device": ["dev-1"],
    "provision_fleet": [["a", "b"], []],
}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"equivalence_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _orchestrators() -> list[Any]:
    params = []
    sources = sorted(CASES.glob("*.py")) + sorted(
        p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_")
    )
    for path in sources:
        try:
            graphs = compile_file(path)
        except CompileFailed:
            continue  # examples that do not compile are listed in docs/compiler.md
        if not graphs:
            continue
        origin = "case" if path.parent == CASES else "example"
        try:
            module = _load(path)
        except Exception as exc:  # an example needing an optional extra, say
            if origin == "case":
                raise
            skip = pytest.mark.skip(reason=f"cannot import {path.name}: {exc}")
            params.append(pytest.param(None, graphs[0], id=f"example-{path.stem}", marks=skip))
            continue
        for graph in graphs:
            pid = f"{origin}-{path.stem}-{graph.name}"
            app = getattr(module, "app", None)
            if app is None or graph.name not in getattr(app, "orchestrators", {}):
                skip = pytest.mark.skip(reason=f"{graph.name} is not registered on {path.stem}.app")
                params.append(pytest.param(module, graph, id=pid, marks=skip))
                continue
            params.append(pytest.param(module, graph, id=pid))
    return params


ORCHESTRATORS = _orchestrators()


def _inputs(module: ModuleType, graph: CompiledGraph) -> list[Any]:
    inputs = getattr(module, "INPUTS", None)
    if inputs is None:
        inputs = EXAMPLE_INPUTS.get(graph.name, [None])
    return list(inputs)


@pytest.mark.parametrize(("module", "graph"), ORCHESTRATORS)
@settings(settings.get_profile("equivalence"))
@given(data=st.data())
def test_graph_and_generator_produce_identical_histories(
    module: ModuleType, graph: CompiledGraph, data: st.DataObject
) -> None:
    app = module.app
    generator = app.orchestrators[graph.name]
    inputs = _inputs(module, graph)
    value = data.draw(st.sampled_from(inputs), label="input")
    world = World(
        seed=data.draw(st.integers(0, 2**32), label="seed"),
        events=event_names(graph),
        failure_rate=data.draw(st.sampled_from([0.0, 0.1, 0.3]), label="failure_rate"),
        fresh_replay=data.draw(st.booleans(), label="fresh_replay"),
    )
    check_equivalence(
        generator,
        graph,
        value,
        world,
        activity_name=app.name_of,
        orchestrator_name=app.name_of,
    )


def test_every_case_orchestrator_takes_part() -> None:
    names = {p.id for p in ORCHESTRATORS}
    for path in CASES.glob("*.py"):
        assert any(f"case-{path.stem}-" in n for n in names), path.name


_WITH_KNOWN_INPUTS = [
    p for p in ORCHESTRATORS if hasattr(p.values[0], "INPUTS") or p.values[1].name in EXAMPLE_INPUTS
]


@pytest.mark.parametrize(("module", "graph"), _WITH_KNOWN_INPUTS)
def test_some_world_runs_the_orchestrator_to_its_end(
    module: ModuleType, graph: CompiledGraph
) -> None:
    """Guards against a vacuous equivalence: the worlds must reach the end of the code."""
    ends = {RuntimeStatus.COMPLETED, RuntimeStatus.CONTINUED_AS_NEW}
    app = module.app
    reached = any(
        drive(
            app.orchestrators[graph.name],
            value,
            World(seed=seed, events=event_names(graph), failure_rate=0.0),
            name=graph.name,
            activity_name=app.name_of,
            orchestrator_name=app.name_of,
        ).status
        in ends
        for value in _inputs(module, graph)
        for seed in range(10)
    )
    assert reached


def test_equivalence_reaches_terminal_states_in_a_typical_world() -> None:
    module, graph = next(
        (p.values[0], p.values[1]) for p in ORCHESTRATORS if "case-loops" in str(p.id)
    )
    statuses = set()
    for seed in range(30):
        expected, _ = check_equivalence(
            module.app.orchestrators[graph.name],
            graph,
            ["a", "b"],
            World(seed=seed, failure_rate=0.1),
            activity_name=module.app.name_of,
        )
        statuses.add(expected.status)
    assert {RuntimeStatus.COMPLETED, RuntimeStatus.FAILED} <= statuses


def test_equivalence_detects_a_graph_that_differs() -> None:
    module, graph = next(
        (p.values[0], p.values[1]) for p in ORCHESTRATORS if "case-branches" in str(p.id)
    )
    data = graph.to_dict()
    data.pop("ir_hash")
    for node in data["nodes"]:
        if node.get("name") == "classify":
            node["name"] = "classify_v2"
    broken = CompiledGraph.from_dict(data)
    with pytest.raises(AssertionError, match="history differs"):
        check_equivalence(module.app.orchestrators["branches"], broken, 1, World(seed=1))
