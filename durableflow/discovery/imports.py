"""Names bound by import statements, and dotted names of expressions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

__all__ = ["ImportTable", "add_import", "dotted_name", "import_table", "module_statements"]


@dataclass(frozen=True, slots=True)
class ImportTable:
    """Names bound by import statements.

    Attributes:
        aliases: Local name -> qualified dotted name (``dt`` -> ``datetime.datetime``).
        star_modules: Modules imported with ``from m import *``.
    """

    aliases: dict[str, str]
    star_modules: tuple[str, ...]

    def resolve(self, dotted: str) -> str | None:
        """Return the qualified name of a dotted expression, or None if its head is not imported."""
        head, sep, rest = dotted.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return None
        return f"{target}{sep}{rest}"


def dotted_name(node: cst.BaseExpression) -> str | None:
    """Return ``a.b.c`` for a ``Name``/``Attribute`` chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _module_text(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    return dotted_name(node) or ""


def _absolute_module(
    level: int, module: cst.BaseExpression | None, module_name: str | None, is_package: bool
) -> str | None:
    name = _module_text(module)
    if level == 0:
        return name
    if module_name is None:
        return None
    parts = module_name.split(".")
    # A package's own __init__ counts as level 1 of itself; a plain module's level 1 is its parent.
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 0:
        return None
    base = ".".join(parts[:keep])
    return f"{base}.{name}".strip(".") if name else base


def add_import(
    stmt: cst.Import | cst.ImportFrom,
    aliases: dict[str, str],
    stars: list[str],
    module_name: str | None = None,
    is_package: bool = False,
) -> None:
    """Record the names one import statement binds into ``aliases`` (and star imports)."""
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = _module_text(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                aliases[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                aliases[head] = head
        return
    base = _absolute_module(len(stmt.relative), stmt.module, module_name, is_package)
    if base is None:
        return
    if isinstance(stmt.names, cst.ImportStar):
        stars.append(base)
        return
    for alias in stmt.names:
        name = _module_text(alias.name)
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        aliases[local] = f"{base}.{name}" if base else name


def module_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Yield statements at module level, descending into if/try/with blocks but not defs."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, cst.If):
            yield from module_statements(stmt.body.body)
            if stmt.orelse is not None:
                yield from module_statements([stmt.orelse])
        elif isinstance(stmt, cst.Else):
            yield from module_statements(stmt.body.body)
        elif isinstance(stmt, cst.Try | cst.TryStar):
            yield from module_statements(stmt.body.body)
            for handler in stmt.handlers:
                yield from module_statements(handler.body.body)
            if stmt.orelse is not None:
                yield from module_statements(stmt.orelse.body.body)
            if stmt.finalbody is not None:
                yield from module_statements(stmt.finalbody.body.body)
        elif isinstance(stmt, cst.With):
            yield from module_statements(stmt.body.body)


def import_table(
    module: cst.Module, module_name: str | None = None, is_package: bool = False
) -> ImportTable:
    """Collect the module-level imports (including those under ``if``/``try``/``with``)."""
    aliases: dict[str, str] = {}
    stars: list[str] = []
    for stmt in module_statements(module.body):
        if isinstance(stmt, cst.Import | cst.ImportFrom):
            add_import(stmt, aliases, stars, module_name, is_package)
    return ImportTable(aliases, tuple(stars))
