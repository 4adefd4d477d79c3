"""Parse expression text into typed nodes with the package's LALR grammar (``expr.lark``)."""

from __future__ import annotations

import ast as _pyast
import functools
import keyword
from typing import Any, cast

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

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
from durableflow.ir.errors import ExpressionSyntaxError

__all__ = ["parse_expression"]

_SOFT_NAMES = frozenset({"None", "True", "False"})


@functools.cache
def _parser() -> Lark:
    return Lark.open_from_package(
        "durableflow", "ir/expr.lark", parser="lalr", propagate_positions=True
    )


class _Reject(Exception):
    """Raised inside the transformer for text the grammar accepts but the language does not."""

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def _pos(meta: Any) -> dict[str, int]:
    if getattr(meta, "empty", True):
        return {}
    return {"line": meta.line, "column": meta.column}


@v_args(meta=True, inline=True)
class _ToAst(Transformer[Token, Expr]):
    """Lark tree -> typed expression nodes."""

    def name(self, meta: Any, tok: Token) -> Expr:
        if keyword.iskeyword(str(tok)) and str(tok) not in _SOFT_NAMES:
            reason = f"`{tok}` is not supported in expressions"
            raise _Reject(reason, tok.line or 1, tok.column or 1)
        return Name(str(tok), **_pos(meta))

    def number(self, meta: Any, tok: Token) -> Expr:
        text = str(tok).replace("_", "")
        try:
            value: Any = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise _Reject(f"bad number {tok}", tok.line or 1, tok.column or 1) from None
        return Const(value, **_pos(meta))

    def string(self, meta: Any, *toks: Token) -> Expr:
        parts = []
        for tok in toks:
            try:
                parts.append(_pyast.literal_eval(str(tok)))
            except (ValueError, SyntaxError):
                raise _Reject(f"bad string {tok}", tok.line or 1, tok.column or 1) from None
        return Const("".join(parts), **_pos(meta))

    def const_none(self, meta: Any) -> Expr:
        return Const(None, **_pos(meta))

    def const_true(self, meta: Any) -> Expr:
        return Const(True, **_pos(meta))

    def const_false(self, meta: Any) -> Expr:
        return Const(False, **_pos(meta))

    def ifexp(self, meta: Any, body: Expr, test: Expr, orelse: Expr) -> Expr:
        return IfExp(body, test, orelse, **_pos(meta))

    def or_(self, meta: Any, *values: Expr) -> Expr:
        return BoolOp("or", values, **_pos(meta))

    def and_(self, meta: Any, *values: Expr) -> Expr:
        return BoolOp("and", values, **_pos(meta))

    def not_(self, meta: Any, operand: Expr) -> Expr:
        return UnaryOp("not", operand, **_pos(meta))

    def compare(self, meta: Any, left: Expr, *rest: Any) -> Expr:
        ops = tuple(" ".join(str(t) for t in op.children) for op in rest[0::2])
        return Compare(left, ops, tuple(rest[1::2]), **_pos(meta))

    def _bin(self, op: str, meta: Any, left: Expr, right: Expr) -> Expr:
        return BinOp(op, left, right, **_pos(meta))

    def add(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("+", meta, a, b)

    def sub(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("-", meta, a, b)

    def mul(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("*", meta, a, b)

    def div(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("/", meta, a, b)

    def floordiv(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("//", meta, a, b)

    def mod(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("%", meta, a, b)

    def pow(self, meta: Any, a: Expr, b: Expr) -> Expr:
        return self._bin("**", meta, a, b)

    def neg(self, meta: Any, operand: Expr) -> Expr:
        return UnaryOp("-", operand, **_pos(meta))

    def pos(self, meta: Any, operand: Expr) -> Expr:
        return UnaryOp("+", operand, **_pos(meta))

    def call(self, meta: Any, func: Expr, arguments: Tree[Any] | None) -> Expr:
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        for arg in arguments.children if arguments is not None else ():
            if arg.data == "posarg":
                if kwargs:
                    raise _Reject(
                        "positional argument follows keyword argument", meta.line, meta.column
                    )
                args.append(cast(Expr, arg.children[0]))
            else:
                key = str(arg.children[0])
                if any(k == key for k, _ in kwargs):
                    raise _Reject(f"keyword argument {key} repeated", meta.line, meta.column)
                kwargs.append((key, cast(Expr, arg.children[1])))
        return Call(func, tuple(args), tuple(kwargs), **_pos(meta))

    def getitem(self, meta: Any, value: Expr, index: Expr) -> Expr:
        return Subscript(value, index, **_pos(meta))

    def slice2(self, meta: Any, lower: Expr | None, upper: Expr | None) -> Expr:
        return Slice(lower, upper, None, **_pos(meta))

    def slice3(self, meta: Any, lower: Expr | None, upper: Expr | None, step: Expr | None) -> Expr:
        return Slice(lower, upper, step, **_pos(meta))

    def getattr(self, meta: Any, value: Expr, attr: Token) -> Expr:
        return Attribute(value, str(attr), **_pos(meta))

    def empty_tuple(self, meta: Any) -> Expr:
        return TupleExpr((), **_pos(meta))

    def tuple(self, meta: Any, *elts: Expr | None) -> Expr:
        return TupleExpr(tuple(e for e in elts if e is not None), **_pos(meta))

    bare_tuple = tuple

    def list(self, meta: Any, *elts: Expr | None) -> Expr:
        return ListExpr(tuple(e for e in elts if e is not None), **_pos(meta))

    def dict(self, meta: Any, *pairs: Tree[Any] | None) -> Expr:
        real = [p for p in pairs if p is not None]
        keys: list[Expr | None] = []
        values: list[Expr] = []
        for item in real:
            if item.data == "unpack":
                keys.append(None)
                values.append(cast(Expr, item.children[0]))
            else:
                keys.append(cast(Expr, item.children[0]))
                values.append(cast(Expr, item.children[1]))
        return DictExpr(tuple(keys), tuple(values), **_pos(meta))

    def genexp(self, meta: Any, elt: Expr, *clauses: Tree[Any]) -> Expr:
        comp = self.listcomp(meta, elt, *clauses)
        assert isinstance(comp, ListComp)
        return ListComp(comp.elt, comp.clauses, "gen", None, line=comp.line, column=comp.column)

    def dictcomp(self, meta: Any, pair: Tree[Any], *clauses: Tree[Any]) -> Expr:
        key, value = cast(Expr, pair.children[0]), cast(Expr, pair.children[1])
        comp = self.listcomp(meta, key, *clauses)
        assert isinstance(comp, ListComp)
        return ListComp(key, comp.clauses, "dict", value, line=comp.line, column=comp.column)

    def listcomp(self, meta: Any, elt: Expr, *clauses: Tree[Any]) -> Expr:
        fors = []
        for clause in clauses:
            target, iterable, *ifs = clause.children
            toks = [t for t in target.children if isinstance(t, Token)]
            names = tuple(str(t) for t in toks if t.type == "NAME")
            # `for a, b in` / `for a, in` unpack; a lone name does not.
            is_tuple = any(str(t) == "," for t in toks)
            fors.append(
                CompFor(
                    names,
                    cast(Expr, iterable),
                    tuple(cast(Expr, i.children[0]) for i in ifs),
                    is_tuple,
                    **_pos(meta),
                )
            )
        pos = _pos(meta)
        return ListComp(elt, tuple(fors), line=pos.get("line", 0), column=pos.get("column", 0))


def _syntax_error(text: str, exc: UnexpectedInput) -> ExpressionSyntaxError:
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    if line < 1:
        line, column = 1, 1
    try:
        context = exc.get_context(text)
    except Exception:  # lark cannot always locate end-of-input errors
        context = text
    reason = "unexpected end of expression" if column < 1 else "invalid syntax"
    token = getattr(exc, "token", None)
    if token is not None and str(token) and getattr(token, "type", "") != "$END":
        reason = f"unexpected {str(token)!r}"
    elif token is not None:
        reason = "unexpected end of expression"
    return ExpressionSyntaxError(text, line, column, context, reason)


def _caret(text: str, line: int, column: int) -> str:
    lines = text.splitlines() or [""]
    src = lines[min(line, len(lines)) - 1]
    return f"{src}\n{' ' * max(column - 1, 0)}^\n"


def parse_expression(text: str) -> Expr:
    """Parse ``text`` into a typed expression tree.

    Raises:
        ExpressionSyntaxError: the text is not in the language; the message has a caret line.
    """
    try:
        tree = _parser().parse(text)
        result = _ToAst().transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _Reject):
            raise ExpressionSyntaxError(
                text, orig.line, orig.column, _caret(text, orig.line, orig.column), orig.reason
            ) from None
        if isinstance(orig, RecursionError):
            raise ExpressionSyntaxError(
                text, 1, 1, _caret(text, 1, 1), "expression nested too deeply"
            ) from None
        raise
    except RecursionError:
        raise ExpressionSyntaxError(
            text, 1, 1, _caret(text, 1, 1), "expression nested too deeply"
        ) from None
    if not isinstance(result, Expr):  # pragma: no cover - the grammar's start is an expr
        raise ExpressionSyntaxError(text, 1, 1, _caret(text, 1, 1), "not an expression")
    return result
