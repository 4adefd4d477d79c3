"""The project's own examples and package lint clean, and a violation seeded in any example is
caught; the README rule table is generated from the rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from durableflow.discovery import find_orchestrators
from durableflow.linter import lint_paths, lint_source
from durableflow.linter.docs import update_readme

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "examples").glob("*.py") if not p.name.startswith("__"))


def test_examples_and_package_report_nothing() -> None:
    paths = [str(REPO / "examples"), str(REPO / "durableflow")]
    assert lint_paths(paths, root=REPO).findings == []


class _SeedPrint(cst.CSTTransformer):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if original_node.name.value not in self.names:
            return updated_node
        body = updated_node.body
        assert isinstance(body, cst.IndentedBlock)
        seeded = cst.parse_statement("print('seeded violation')\n")
        return updated_node.with_changes(body=body.with_changes(body=[seeded, *body.body]))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_violation_seeded_in_example_is_caught(example: Path) -> None:
    module = cst.parse_module(example.read_text())
    names = {d.function_name for d in find_orchestrators(module)}
    assert names, f"no orchestrator discovered in {example.name}"
    seeded = module.visit(_SeedPrint(names)).code
    found = [f for f in lint_source(seeded, str(example)) if f.code == "DUR012"]
    assert len(found) == len(names)


def test_readme_rule_table_is_up_to_date() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert update_readme(text) == text, "run: python scripts/document_rules.py"


def test_document_rules_script_check_mode_passes() -> None:
    script = REPO / "scripts" / "document_rules.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
