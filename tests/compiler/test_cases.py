"""Data-driven compiler tests: golden graphs for every case, expected errors for every error case.

Set ``DURABLEFLOW_UPDATE_GOLDENS=1`` to rewrite the golden ``*.graph.json`` files.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest

from durableflow.compiler import CODES, CompileFailed, compile_source
from durableflow.ir import CompiledGraph, GraphFormatError, graph_schema

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("DURABLEFLOW_UPDATE_GOLDENS") == "1"


def _compile_case(path: Path) -> list[CompiledGraph]:
    return compile_source(path.read_text("utf-8"), str(path.relative_to(ROOT)))


def _golden_path(path: Path, graph: CompiledGraph, many: bool) -> Path:
    return path.with_name(
        f"{path.stem}.{graph.name}.graph.json" if many else f"{path.stem}.graph.json"
    )


CASE_FILES = sorted(CASES.glob("*.py"))


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case_compiles_to_its_golden_graph(path: Path) -> None:
    graphs = _compile_case(path)
    assert graphs
    for graph in graphs:
        golden = _golden_path(path, graph, len(graphs) > 1)
        text = graph.to_json()
        if UPDATE:
            golden.write_text(text, "utf-8")
        assert golden.exists(), f"missing {golden.name}; run with DURABLEFLOW_UPDATE_GOLDENS=1"
        assert text == golden.read_text("utf-8")


GOLDENS = sorted(CASES.glob("*.graph.json"))


@pytest.mark.parametrize("golden", GOLDENS, ids=[p.name for p in GOLDENS])
def test_golden_graph_matches_the_json_schema(golden: Path) -> None:
    jsonschema.validate(json.loads(golden.read_text("utf-8")), graph_schema())


@pytest.mark.parametrize("golden", GOLDENS, ids=[p.name for p in GOLDENS])
def test_loading_and_saving_a_graph_is_byte_stable(golden: Path) -> None:
    text = golden.read_text("utf-8")
    assert CompiledGraph.from_json(text, str(golden)).to_json() == text


def test_loading_rejects_an_edited_graph() -> None:
    data = json.loads(GOLDENS[0].read_text("utf-8"))
    data["nodes"][1]["label"] = "edited"
    with pytest.raises(GraphFormatError, match="ir_hash"):
        CompiledGraph.from_dict(data)


def test_loading_parses_every_expression_again() -> None:
    data = json.loads((CASES / "branches.graph.json").read_text("utf-8"))
    guard = next(e for e in data["edges"] if e.get("guard"))
    guard["guard"] = "n >"
    data.pop("ir_hash")
    with pytest.raises(GraphFormatError, match="guard"):
        CompiledGraph.from_dict(data)


def test_ir_hash_ignores_source_positions() -> None:
    source = (CASES / "branches.py").read_text("utf-8")
    shifted = "\n\n# moved down\n" + source
    assert compile_source(source)[0].ir_hash() == compile_source(shifted)[0].ir_hash()


_CASE_RE = re.compile(r"^\[case (\w+)\]\n(.*?)^\[out\]\n(.*?)(?=^\[case |\Z)", re.S | re.M)
ERROR_CASES = _CASE_RE.findall((CASES / "errors.test").read_text("utf-8"))


@pytest.mark.parametrize(
    ("name", "source", "expected"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES]
)
def test_error_case_reports_exactly_the_expected_errors(
    name: str, source: str, expected: str
) -> None:
    with pytest.raises(CompileFailed) as info:
        compile_source(source, f"{name}.py")
    got = [f"{e.line}:{e.column}: {e.code}" for e in info.value.errors]
    assert got == [line.strip() for line in expected.strip().splitlines()]
    for error in info.value.errors:
        assert error.hint and error.code in CODES
        assert error.format().startswith(f"{name}.py:{error.line}:{error.column}: {error.code}")


def test_every_error_code_has_an_error_case() -> None:
    text = (CASES / "errors.test").read_text("utf-8")
    tested_elsewhere = {"DFC025"}  # needs a function name: see the test below
    assert [code for code in CODES if code not in text and code not in tested_elsewhere] == []


def test_asking_for_a_missing_orchestrator_is_its_own_error() -> None:
    with pytest.raises(CompileFailed) as info:
        compile_source((CASES / "subs.py").read_text("utf-8"), function="nobody")
    assert [e.code for e in info.value.errors] == ["DFC025"]


def test_nondeterministic_call_gets_the_linter_message() -> None:
    source = "import durableflow as df\nimport time\napp = df.App()\n\n@app.orchestrator\n"
    source += "def o(ctx: df.OrchestrationContext, x):\n    t = time.time()\n"
    source += "    yield ctx.call_activity('a', t)\n"
    with pytest.raises(CompileFailed) as info:
        compile_source(source)
    assert "ctx.current_utc_datetime" in info.value.errors[0].message


def test_compile_selects_one_function_by_name() -> None:
    graphs = compile_source((CASES / "subs.py").read_text("utf-8"), function="child")
    assert [g.name for g in graphs] == ["child"]


NESTED_AND_HELPER = """
import durableflow as df


def charge(ctx: df.OrchestrationContext, order):
    yield ctx.call_activity("charge", order)


def checkout(ctx: df.OrchestrationContext, order):
    yield ctx.call_activity("reserve", order)
    yield from charge(ctx, order)


def factory():
    def inner(ctx, order):
        yield ctx.call_activity("ship", order)

    return inner
"""


def test_generator_helper_that_takes_the_context_is_not_compiled_as_an_orchestrator() -> None:
    (graph,) = compile_source(NESTED_AND_HELPER)
    assert graph.name == "checkout"
    assert "checkout/yieldfrom#0/charge/activity:charge#0" in graph


@pytest.mark.parametrize("name", ["factory.inner", "factory.<locals>.inner"])
def test_function_option_names_a_nested_function(name: str) -> None:
    (graph,) = compile_source(NESTED_AND_HELPER, function=name)
    assert graph.meta["function"] == "factory.inner"


def test_syntax_error_is_reported_where_durable_lint_reports_it() -> None:
    from durableflow.linter import lint_source

    source = (
        "import durableflow as df\napp = df.App()\n\n@app.orchestrator\ndef orch(ctx, x):\n"
        "    y = 1\n    z = [\n        1,\n    ]\n\n\n    w = foo(1, 2 3)\n"
        "    yield ctx.call_activity('a', x)\n"
    )
    with pytest.raises(CompileFailed) as info:
        compile_source(source)
    (error,) = info.value.errors
    (finding,) = lint_source(source)
    assert (error.line, error.column) == (finding.span.line, finding.span.column) == (12, 16)


def test_implicitly_concatenated_fstrings_compile() -> None:
    source = (
        "import durableflow as df\napp = df.App()\n\n@app.orchestrator\ndef orch(ctx, x):\n"
        '    msg = f"hello {x} " f"and {x:>4}" " done"\n'
        "    yield ctx.call_activity('a', msg)\n"
    )
    (graph,) = compile_source(source)
    values = [node.value for node in graph.nodes() if node.kind == "assign"]
    assert values == ["'hello ' + str(x) + ' ' + ('and ' + format(x, '>4')) + ' done'"]
