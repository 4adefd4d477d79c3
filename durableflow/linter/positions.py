"""Source positions for just the nodes that carry findings.

LibCST's ``PositionProvider`` records a range for every node of the module, which costs more than
parsing it. Findings need the positions of a handful of nodes, so this runs LibCST's own code
generator once with a state that tracks only line and column and records only the requested
nodes. Positions match ``PositionProvider``'s syntactic ranges.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState

from durableflow.linter.ftypes import Span

__all__ = ["positions_of"]


class _Null:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


_NULL = _Null()


class _Recorder:
    __slots__ = ("end_node", "node", "start", "state")

    def __init__(self, state: _State, node: cst.CSTNode, end_node: cst.CSTNode | None) -> None:
        self.state = state
        self.node = node
        self.end_node = end_node
        self.start = (state.line, state.column)

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        state = self.state
        end = (state.line, state.column)
        if self.end_node is not None and id(self.end_node) in state.found:
            hoisted = state.found[id(self.end_node)]
            end = (hoisted.end_line, hoisted.end_column - 1)
        state.found[id(self.node)] = Span(self.start[0], self.start[1] + 1, end[0], end[1] + 1)


@dataclass(frozen=False)
class _State(CodegenState):
    targets: set[int] = field(default_factory=set)
    found: dict[int, Span] = field(default_factory=dict)
    line: int = 1
    column: int = 0

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)

    def add_token(self, value: str) -> None:
        newlines = value.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)

    def pop_trailing_newline(self) -> None:
        return None

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _Recorder | _Null:
        if id(node) in self.targets:
            if end_node is not None:
                # The node's range ends where this child's does: record the child as well.
                self.targets.add(id(end_node))
            return _Recorder(self, node, end_node)
        return _NULL


def _statement_starts(module: cst.Module, source: str) -> list[int] | None:
    """First line of each top-level statement's code (its leading blank/comment lines included).

    CPython's parser finds the lines ten times faster than LibCST's code generator can count them.
    None if CPython disagrees with LibCST about the statements (then the caller falls back).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are not ours to report
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = tree.body
    starts: list[int] = []
    index = 0
    for stmt in module.body:
        if index >= len(body):
            return None
        node = body[index]
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        starts.append(first - len(stmt.leading_lines))
        index += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
    return starts if index == len(body) else None


def positions_of(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    source: str | None = None,
    statements: Iterable[int] | None = None,
) -> dict[int, Span]:
    """Return ``id(node) -> Span`` for each of ``nodes`` (which must belong to ``module``).

    With ``source`` and the indexes of the top-level ``statements`` that contain the nodes, only
    those statements are generated; otherwise the whole module is.
    """
    targets = {id(node) for node in nodes}
    if not targets:
        return {}
    state = _State(default_indent=module.default_indent, default_newline=module.default_newline)
    state.targets = targets
    starts = _statement_starts(module, source) if source is not None and statements else None
    if starts is None or statements is None:
        module._codegen(state)
        return state.found
    for index in sorted(set(statements)):
        state.line, state.column = starts[index], 0
        module.body[index]._codegen(state)
    return state.found
