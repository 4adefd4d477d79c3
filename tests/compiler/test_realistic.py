"""Realistic orchestrators (ports of Durable Functions, durabletask, Temporal and dapr samples
and ordinary data shaping): how many compile, and every one that compiles behaves exactly
like its generator."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durableflow.compiler import CompileFailed, compile_file
from durableflow.ir import CompiledGraph
from durableflow.testing.equivalence import World, check_equivalence, event_names

REALISTIC = Path(__file__).parent / "realistic"

# Outside the subset on purpose; each gets a compile error that says why.
NOT_COMPILED = {
    "pick_carrier": "DFC019",  # activity name chosen at run time
    "compensate_in_reverse": "DFC019",  # activity name from a loop variable
    "due_date_reminder": "DFC021",  # import and datetime parsing inside the orchestrator
}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"realistic_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compile_all() -> tuple[list[tuple[ModuleType, CompiledGraph]], dict[str, list[str]]]:
    compiled: list[tuple[ModuleType, CompiledGraph]] = []
    failed: dict[str, list[str]] = {}
    for path in sorted(REALISTIC.glob("*.py")):
        module = _load(path)
        for name in module.app.orchestrators:
            try:
                (graph,) = compile_file(path, function=name)
            except CompileFailed as exc:
                failed[name] = [e.code for e in exc.errors]
                continue
            compiled.append((module, graph))
    return compiled, failed


COMPILED, FAILED = _compile_all()


def test_the_corpus_has_29_orchestrators_in_the_styles_people_write() -> None:
    assert len(COMPILED) + len(FAILED) == 29


def test_at_least_25_of_29_compile() -> None:
    assert len(COMPILED) >= 26, sorted(FAILED)


def test_the_ones_that_do_not_compile_fail_for_the_stated_reason() -> None:
    assert {name: codes[0] for name, codes in FAILED.items()} == NOT_COMPILED


@pytest.mark.parametrize(
    ("module", "graph"), COMPILED, ids=[f"{m.__name__}-{g.name}" for m, g in COMPILED]
)
@settings(settings.get_profile("equivalence"))
@given(data=st.data())
def test_compiled_realistic_orchestrator_behaves_like_its_generator(
    module: ModuleType, graph: CompiledGraph, data: st.DataObject
) -> None:
    inputs: list[Any] = module.INPUTS[graph.name]
    world = World(
        seed=data.draw(st.integers(0, 2**32), label="seed"),
        events=event_names(graph),
        failure_rate=data.draw(st.sampled_from([0.0, 0.1, 0.3]), label="failure_rate"),
        fresh_replay=data.draw(st.booleans(), label="fresh_replay"),
    )
    check_equivalence(
        module.app.orchestrators[graph.name],
        graph,
        data.draw(st.sampled_from(inputs), label="input"),
        world,
        activity_name=module.app.name_of,
        orchestrator_name=module.app.name_of,
    )
