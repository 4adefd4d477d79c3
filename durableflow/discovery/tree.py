"""Cheap walks over a LibCST tree: function definitions (nested ones too) and descendants."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import libcst as cst

from durableflow.discovery.imports import module_statements

__all__ = ["is_generator", "iter_function_defs", "iter_nodes"]


def _block_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Yield the statements of a function body, descending into every compound statement."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, cst.If):
            yield from _block_statements(stmt.body.body)
            if stmt.orelse is not None:
                yield from _block_statements([stmt.orelse])
        elif isinstance(stmt, cst.Else | cst.Finally | cst.ExceptHandler | cst.ExceptStarHandler):
            yield from _block_statements(stmt.body.body)
        elif isinstance(stmt, cst.Try | cst.TryStar):
            yield from _block_statements(stmt.body.body)
            yield from _block_statements(stmt.handlers)
            for tail in (stmt.orelse, stmt.finalbody):
                if tail is not None:
                    yield from _block_statements([tail])
        elif isinstance(stmt, cst.For | cst.While):
            yield from _block_statements(stmt.body.body)
            if stmt.orelse is not None:
                yield from _block_statements([stmt.orelse])
        elif isinstance(stmt, cst.With):
            yield from _block_statements(stmt.body.body)
        elif isinstance(stmt, cst.Match):
            for case in stmt.cases:
                yield from _block_statements(case.body.body)


def iter_function_defs(module: cst.Module) -> Iterator[tuple[str, cst.FunctionDef, bool]]:
    """Yield ``(qualified_in_module_name, node, is_method)`` for every function of the module.

    Methods are ``Class.method``; functions defined inside functions are ``outer.inner`` (tests
    and factories define orchestrators so), in source order after their enclosing function.
    """

    def walk(
        statements: Iterator[cst.CSTNode], prefix: str, in_class: bool
    ) -> Iterator[tuple[str, cst.FunctionDef, bool]]:
        for stmt in statements:
            if isinstance(stmt, cst.FunctionDef):
                qualname = f"{prefix}{stmt.name.value}"
                yield qualname, stmt, in_class
                if isinstance(stmt.body, cst.IndentedBlock):
                    yield from walk(_block_statements(stmt.body.body), f"{qualname}.", False)
            elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
                inner = module_statements(stmt.body.body)
                yield from walk(inner, f"{prefix}{stmt.name.value}.", True)

    yield from walk(module_statements(module.body), "", False)


_FIELDS: dict[type, tuple[str, ...]] = {}
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


def iter_nodes(node: cst.CSTNode, *, enter_scopes: bool) -> Iterator[cst.CSTNode]:
    """Yield ``node``'s descendants by reading dataclass fields (``CSTNode.visit`` rebuilds the
    tree as it goes and costs as much as parsing). Whitespace fields are skipped."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        yield current
        if not enter_scopes and current is not node and isinstance(current, _SCOPES):
            continue
        fields = _FIELDS.get(type(current))
        if fields is None:
            fields = tuple(
                f.name
                for f in dataclasses.fields(current)
                if not f.name.startswith(("whitespace", "leading_lines", "lpar", "rpar", "comma"))
            )
            _FIELDS[type(current)] = fields
        for name in fields:
            value = getattr(current, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(v for v in value if isinstance(v, cst.CSTNode))


def is_generator(node: cst.FunctionDef) -> bool:
    """True if the function's own body (not nested defs) contains ``yield``."""
    return any(isinstance(n, cst.Yield) for n in iter_nodes(node.body, enter_scopes=False))
