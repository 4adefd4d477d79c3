"""Print expression trees as canonical text that parses back to an equal tree."""

from __future__ import annotations

import math

from durableflow.ir.ast import (
    Attribute,
    BinOp,
    BoolOp,
    Call,
    Compare,
    CompFor,
    Const,
    DictExpr,
    Expr,
    IfExp,
    ListComp,
    ListExpr,
    Name,
    Slice,
    Subscript,
    TupleExpr,
    UnaryOp,
)

__all__ = ["print_expression"]

# Binding strength, loosest first; an operand that binds looser than its slot is parenthesised.
_TEST, _OR, _AND, _NOT, _CMP, _ARITH, _TERM, _FACTOR, _POWER, _ATOM = range(10)
_BIN_PREC = {"+": _ARITH, "-": _ARITH, "*": _TERM, "/": _TERM, "//": _TERM, "%": _TERM}


def print_expression(expr: Expr) -> str:
    """Canonical source text for ``expr`` (strings with ``repr``, minimal parentheses)."""
    return _p(expr, _TEST)


def _wrap(text: str, prec: int, need: int) -> str:
    return f"({text})" if prec < need else text


def _const(value: object) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "1e999"
        if math.isnan(value):  # pragma: no cover - no literal produces NaN
            return "(1e999 - 1e999)"
        return repr(value)
    return repr(value)


def _p(e: Expr, need: int) -> str:
    if isinstance(e, Const):
        text = _const(e.value)
        negative = isinstance(e.value, int | float) and not isinstance(e.value, bool)
        if negative and text.startswith("-"):
            return _wrap(text, _FACTOR, need)
        return text
    if isinstance(e, Name):
        return e.id
    if isinstance(e, Attribute):
        base = _p(e.value, _ATOM)
        if isinstance(e.value, Const) and isinstance(e.value.value, int | float):
            base = f"({base})"  # `1.real` would lex as the float `1.`
        return f"{base}.{e.attr}"
    if isinstance(e, Subscript):
        return f"{_p(e.value, _ATOM)}[{_p(e.index, _TEST)}]"
    if isinstance(e, Slice):
        parts = [
            "" if e.lower is None else _p(e.lower, _TEST),
            "" if e.upper is None else _p(e.upper, _TEST),
        ]
        if e.step is not None:
            parts.append(_p(e.step, _TEST))
        return ":".join(parts)
    if isinstance(e, Call):
        args = [_p(a, _TEST) for a in e.args] + [f"{k}={_p(v, _TEST)}" for k, v in e.kwargs]
        return f"{_p(e.func, _ATOM)}({', '.join(args)})"
    if isinstance(e, BinOp):
        if e.op == "**":
            text = f"{_p(e.left, _ATOM)} ** {_p(e.right, _FACTOR)}"
            return _wrap(text, _POWER, need)
        prec = _BIN_PREC[e.op]
        text = f"{_p(e.left, prec)} {e.op} {_p(e.right, prec + 1)}"
        return _wrap(text, prec, need)
    if isinstance(e, UnaryOp):
        if e.op == "not":
            return _wrap(f"not {_p(e.operand, _NOT)}", _NOT, need)
        return _wrap(f"{e.op}{_p(e.operand, _FACTOR)}", _FACTOR, need)
    if isinstance(e, BoolOp):
        prec = _OR if e.op == "or" else _AND
        text = f" {e.op} ".join(_p(v, prec + 1) for v in e.values)
        return _wrap(text, prec, need)
    if isinstance(e, Compare):
        parts = [_p(e.left, _ARITH)]
        for op, right in zip(e.ops, e.comparators, strict=True):
            parts.append(f"{op} {_p(right, _ARITH)}")
        return _wrap(" ".join(parts), _CMP, need)
    if isinstance(e, IfExp):
        text = f"{_p(e.body, _OR)} if {_p(e.test, _OR)} else {_p(e.orelse, _TEST)}"
        return _wrap(text, _TEST, need)
    if isinstance(e, TupleExpr):
        if len(e.elts) == 1:
            return f"({_p(e.elts[0], _TEST)},)"
        return f"({', '.join(_p(x, _TEST) for x in e.elts)})"
    if isinstance(e, ListExpr):
        return f"[{', '.join(_p(x, _TEST) for x in e.elts)}]"
    if isinstance(e, DictExpr):
        items = (
            f"**{_p(v, _ARITH)}" if k is None else f"{_p(k, _TEST)}: {_p(v, _TEST)}"
            for k, v in zip(e.keys, e.values, strict=True)
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(e, ListComp):
        clauses = " ".join(_clause(c) for c in e.clauses)
        if e.kind == "gen":
            return f"({_p(e.elt, _TEST)} {clauses})"
        if e.kind == "dict" and e.value is not None:
            return f"{{{_p(e.elt, _TEST)}: {_p(e.value, _TEST)} {clauses}}}"
        return f"[{_p(e.elt, _TEST)} {clauses}]"
    raise TypeError(f"cannot print {type(e).__name__}")


def _clause(c: CompFor) -> str:
    target = ", ".join(c.targets)
    if c.is_tuple and len(c.targets) == 1:
        target += ","
    ifs = "".join(f" if {_p(i, _OR)}" for i in c.ifs)
    return f"for {target} in {_p(c.iter, _OR)}{ifs}"
