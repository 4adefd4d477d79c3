"""The linter's name resolution agrees with LibCST's QualifiedNameProvider where rules look.

The linter resolves names itself, only inside checked functions, because whole-module scope
analysis costs ten times the parse (docs/linter.md). This test runs LibCST's provider over the
same code and checks that every imported or builtin name the provider resolves inside an
orchestrator or helper is resolved to the same qualified name by the linter, and vice versa.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, QualifiedNameProvider, QualifiedNameSource

from durableflow.discovery import dotted_name
from durableflow.linter.facts import collect_facts
from durableflow.linter.modinfo import RULE_BUILTINS, build_module_info
from durableflow.linter.rules import ALL_RULES

CORPUS = Path(__file__).parent / "corpus"
SOURCES = [
    pytest.param(path.read_text(), id=path.relative_to(CORPUS).as_posix())
    for path in sorted(CORPUS.rglob("*.py"))
] + [
    pytest.param(source, id=f"{rule.CODE}-{kind}-{i}")
    for rule in ALL_RULES
    if rule.CODE != "DUR000"
    for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for i, source in enumerate(examples)
]
_KNOWN = (QualifiedNameSource.IMPORT, QualifiedNameSource.BUILTIN)


class _Names(cst.CSTVisitor):
    """LibCST's qualified names of every Name/Attribute."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    def __init__(self) -> None:
        self.names: dict[int, set[str]] = {}

    def _record(self, node: cst.CSTNode) -> None:
        found = self.get_metadata(QualifiedNameProvider, node, set())
        self.names[id(node)] = {
            q.name for q in found if q.source in _KNOWN and not q.name.startswith(".")
        }

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._record(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._record(node)


class _Chains(cst.CSTVisitor):
    """Outermost Name/Attribute chains, as the linter's collector sees them."""

    def __init__(self) -> None:
        self.nodes: list[cst.BaseExpression] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # LibCST also names chains through calls (`requests.get(u).json` -> requests.get.json);
        # those are not APIs, and the linter resolves the `requests.get` inside instead.
        if dotted_name(node) is None:
            return True
        self.nodes.append(node)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.nodes.append(node)


def _relevant(name: str) -> bool:
    """Imported names, and the builtins rules look at (the linter resolves no other builtin)."""
    return not name.startswith("builtins.") or name.removeprefix("builtins.") in RULE_BUILTINS


def compare(source: str) -> int:
    """Assert agreement on every reference in every function of ``source``; return the count."""
    module = cst.parse_module(source)
    provider = _Names()
    MetadataWrapper(module, unsafe_skip_copy=True).visit(provider)
    info = build_module_info(module, "mod", source=source)
    checked = 0
    for qualname, (function, _) in info.functions.items():
        facts = collect_facts(function, "mod." + qualname, info, True, None)
        mine = {id(ref.node): ref.qualified for ref in facts.refs}
        chains = _Chains()
        function.body.visit(chains)
        for node in chains.nodes:
            theirs = {name for name in provider.names.get(id(node), set()) if _relevant(name)}
            if theirs:
                checked += 1
                assert mine.get(id(node)) in theirs, cst.Module([]).code_for_node(node)
            elif id(node) in mine and not mine[id(node)].startswith("mod."):
                raise AssertionError(f"only the linter resolves {mine[id(node)]}")
    return checked


@pytest.mark.parametrize("source", SOURCES)
def test_linter_names_match_qualified_name_provider(source: str) -> None:
    compare(source)


def test_comparison_covers_many_references() -> None:
    assert sum(compare(p.values[0]) for p in SOURCES) >= 80  # type: ignore[arg-type]
