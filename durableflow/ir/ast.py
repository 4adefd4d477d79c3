"""Typed expression nodes: the tree the parser builds and the evaluator walks.

Every node is a frozen dataclass. Positions (1-based line and column inside the expression
text) take no part in equality, so a reparsed printout compares equal to the original tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Attribute",
    "BinOp",
    "BoolOp",
    "Call",
    "CompFor",
    "Compare",
    "Const",
    "DictExpr",
    "Expr",
    "IfExp",
    "ListComp",
    "ListExpr",
    "Name",
    "Slice",
    "Subscript",
    "TupleExpr",
    "UnaryOp",
]


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of every expression node."""

    line: int = field(default=0, compare=False, kw_only=True)
    column: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Const(Expr):
    """A literal: int, float, str, bool or None."""

    value: Any


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A variable or builtin name."""

    id: str


@dataclass(frozen=True, slots=True)
class Attribute(Expr):
    """``value.attr``."""

    value: Expr
    attr: str


@dataclass(frozen=True, slots=True)
class Slice(Expr):
    """``lower:upper:step`` inside a subscript."""

    lower: Expr | None
    upper: Expr | None
    step: Expr | None


@dataclass(frozen=True, slots=True)
class Subscript(Expr):
    """``value[index]``."""

    value: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """``func(*args, **kwargs)`` with literal keyword names."""

    func: Expr
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """``left op right`` for ``+ - * / // % **``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    """``a and b and ...`` or ``a or b or ...`` (short-circuit)."""

    op: str
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """A comparison chain ``a < b <= c``."""

    left: Expr
    ops: tuple[str, ...]
    comparators: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class IfExp(Expr):
    """``body if test else orelse``."""

    body: Expr
    test: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class ListExpr(Expr):
    """``[a, b]``."""

    elts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class TupleExpr(Expr):
    """``(a, b)``."""

    elts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class DictExpr(Expr):
    """``{k: v, **d}`` (insertion ordered); a ``None`` key marks a ``**`` unpacking."""

    keys: tuple[Expr | None, ...]
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class CompFor(Expr):
    """One ``for targets in iter if cond...`` clause of a comprehension."""

    targets: tuple[str, ...]
    iter: Expr
    ifs: tuple[Expr, ...]
    is_tuple: bool = False


@dataclass(frozen=True, slots=True)
class ListComp(Expr):
    """``[elt for ... in ... if ...]``; also ``(elt for ...)`` (``kind="gen"``, evaluated
    lazily like Python's generator expressions) and ``{elt: value for ...}`` (``kind="dict"``)."""

    elt: Expr
    clauses: tuple[CompFor, ...]
    kind: str = "list"
    value: Expr | None = None
