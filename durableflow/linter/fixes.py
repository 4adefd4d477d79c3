"""Apply the rules' rewrites with LibCST, keeping comments and formatting.

Rewrites are computed by re-analysing the file and replacing nodes by identity. Applying one
rewrite can expose another (a guarded log line that also reads the clock), so fixing repeats until
nothing changes; that is also why a second ``--fix`` never changes anything.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from durableflow.discovery import import_table
from durableflow.linter.analyze import analyze_source
from durableflow.linter.config import LintConfig
from durableflow.linter.positions import positions_of
from durableflow.linter.rules import Edit
from durableflow.linter.suppress import is_suppressed, parse_suppressions

__all__ = ["FixOutcome", "fix_source", "unified_diff"]

_MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """The result of fixing one file: its new text and the codes of the applied rewrites."""

    source: str
    applied: tuple[str, ...]


class _Replace(cst.CSTTransformer):
    def __init__(self, edits: dict[int, cst.CSTNode]) -> None:
        self.edits = edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode:
        return self.edits.get(id(original_node), updated_node)


def _add_import(module: cst.Module, package: str, name: str) -> cst.Module:
    if import_table(module).aliases.get(name) == f"{package}.{name}":
        return module
    statement = cst.parse_statement(f"from {package} import {name}\n")
    body = list(module.body)
    position = 0
    for index, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body
        ):
            position = index + 1
        elif (
            index == 0
            and isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, cst.SimpleString)
        ):
            position = 1  # a module docstring stays first
    body.insert(position, statement)
    return module.with_changes(body=body)


def _round(
    source: str, path: str, module_name: str, config: LintConfig, unsafe: bool
) -> tuple[str, list[str]]:
    analysis = analyze_source(source, path, module_name, config, want_edits=True)
    module = analysis.module
    if module is None:
        return source, []
    suppressions = parse_suppressions(source)
    wanted: list[tuple[str, Edit]] = [
        (code, edit)
        for code, edit in analysis.edits
        if (edit.safe or unsafe) and config.enabled(code)
    ]
    spans = positions_of(module, [edit.target for _, edit in wanted])
    chosen: dict[int, cst.CSTNode] = {}
    applied: list[str] = []
    imports: set[tuple[str, str]] = set()
    for code, edit in wanted:
        span = spans[id(edit.target)]
        if is_suppressed(suppressions, span.line, code) or id(edit.target) in chosen:
            continue
        chosen[id(edit.target)] = edit.replacement
        applied.append(code)
        imports.update(edit.imports)
    if not chosen:
        return source, []
    updated = module.visit(_Replace(chosen))
    for package, name in sorted(imports):
        updated = _add_import(updated, package, name)
    return updated.code, applied


def fix_source(
    source: str, path: str, module_name: str, config: LintConfig, *, unsafe: bool = False
) -> FixOutcome:
    """Apply every available rewrite (``unsafe`` adds the meaning-changing ones)."""
    applied: list[str] = []
    for _ in range(_MAX_ROUNDS):
        source, codes = _round(source, path, module_name, config, unsafe)
        if not codes:
            break
        applied.extend(codes)
    return FixOutcome(source, tuple(applied))


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff of one file, as ``--diff`` prints it."""
    lines: Iterator[str] = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(lines)
