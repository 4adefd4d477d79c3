"""Generated modules never crash the linter: unparsable ones are DUR000, nothing else."""

from __future__ import annotations

import textwrap

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from durableflow.linter import LintConfig, lint_source
from durableflow.linter.fixes import fix_source

# hypothesmith compiles what it generates; CPython warns about code like `1()`.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

HEAD = "import durableflow as df\napp = df.App()\n\n@app.orchestrator\ndef orch(ctx, data):\n"
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def as_orchestrator(source: str) -> str:
    """The generated statements as the body of an orchestrator, so every rule runs on them."""
    return (
        HEAD + textwrap.indent(source or "pass\n", "    ") + "\n    yield ctx.call_activity('a')\n"
    )


def check(source: str) -> None:
    findings = lint_source(source)
    codes = {f.code for f in findings}
    if "DUR000" in codes:
        assert codes == {"DUR000"}
        return
    fixed = fix_source(source, "example.py", "example", LintConfig(), unsafe=True).source
    cst.parse_module(fixed)
    again = fix_source(fixed, "example.py", "example", LintConfig(), unsafe=True).source
    assert again == fixed


@SETTINGS
@given(hypothesmith.from_grammar())
def test_grammar_generated_module_never_crashes(source: str) -> None:
    check(source)


@SETTINGS
@given(hypothesmith.from_grammar().map(as_orchestrator))
def test_grammar_generated_orchestrator_body_never_crashes(source: str) -> None:
    check(source)


@SETTINGS
@given(hypothesmith.from_node(auto_target=False).map(as_orchestrator))
def test_node_generated_orchestrator_body_never_crashes(source: str) -> None:
    check(source)


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(source: str) -> None:
    check(source)
