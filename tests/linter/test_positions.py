"""Positions computed for reported nodes equal LibCST's PositionProvider."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from durableflow.linter.positions import positions_of

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = ["json/decoder.py", "contextlib.py", "bisect.py"]


class _Collect(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseExpression | cst.BaseStatement | cst.ExceptHandler):
            self.nodes.append(node)
        return True


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("by_statement", [False, True], ids=["module", "statements"])
def test_positions_match_position_provider(name: str, by_statement: bool) -> None:
    source = (STDLIB / name).read_text(encoding="utf-8")
    module = cst.parse_module(source)
    collect = _Collect()
    module.visit(collect)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    statements = range(len(module.body)) if by_statement else None
    found = positions_of(module, collect.nodes, source if by_statement else None, statements)
    mismatches = [
        node
        for node in collect.nodes
        if (
            expected[node].start.line,
            expected[node].start.column + 1,
            expected[node].end.line,
            expected[node].end.column + 1,
        )
        != (
            found[id(node)].line,
            found[id(node)].column,
            found[id(node)].end_line,
            found[id(node)].end_column,
        )
    ]
    assert mismatches == []
