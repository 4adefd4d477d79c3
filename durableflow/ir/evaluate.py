"""A tree-walking evaluator for expression trees: whitelisted pure builtins, never ``eval``.

Evaluation raises only :class:`ExpressionEvalError`; when a Python operation failed, the
original exception is kept in ``original`` so the graph interpreter can fail an instance with
the same error type and message as the source generator would.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from datetime import timedelta
from typing import Any

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
from durableflow.ir.errors import ExpressionEvalError
from durableflow.ir.printer import print_expression

__all__ = [
    "BUILTINS",
    "CONTEXT_ATTRIBUTES",
    "CONTEXT_METHODS",
    "NAMESPACES",
    "SAFE_ATTRIBUTES",
    "SAFE_METHODS",
    "ContextView",
    "assign_target",
    "evaluate",
]

# Bounds that keep one evaluation cheap; beyond them evaluation fails instead of hanging.
_MAX_EXPONENT = 10_000
_MAX_SEQUENCE = 10_000_000


BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "sum": sum,
    "abs": abs,
    "round": round,
    "sorted": sorted,
    "any": any,
    "all": all,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "range": range,
    "enumerate": enumerate,
    "zip": zip,
    "timedelta": timedelta,
    # Not in the documented list, but pure and needed to lower `for` loops and list copies.
    "list": list,
    # Pure, and what ordinary orchestrators write: dict(...), isinstance(x, (int, float)),
    # f-string fields with a spec or a conversion (`format(x, ".2f")`, `repr(x)`).
    "dict": dict,
    "tuple": tuple,
    "isinstance": isinstance,
    "format": format,
    "repr": repr,
}
"""Every callable name an expression may use."""

NAMESPACES: dict[str, dict[str, Callable[..., Any]]] = {
    "json": {"loads": json.loads, "dumps": json.dumps},
}
"""Modules an expression may name, with the pure functions it may call on them."""

SAFE_ATTRIBUTES = frozenset(
    {
        "days",
        "seconds",
        "microseconds",
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "task_name",
        "error_type",
        "error_message",
        "event_name",
        "is_complete",
        "is_failed",
        "real",
        "imag",
    }
)
"""Data attributes readable on any value (never a name starting with ``_``)."""

SAFE_METHODS = frozenset(
    {
        "get",
        "keys",
        "values",
        "items",
        "copy",
        "count",
        "index",
        "upper",
        "lower",
        "strip",
        "split",
        "join",
        "startswith",
        "endswith",
        "replace",
        "total_seconds",
        "isoformat",
        "get_result",
        # more pure string methods
        "lstrip",
        "rstrip",
        "rsplit",
        "splitlines",
        "partition",
        "rpartition",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "zfill",
        "ljust",
        "rjust",
        "center",
        "find",
        "rfind",
        "removeprefix",
        "removesuffix",
        "isdigit",
        "isnumeric",
        "isalpha",
        "isalnum",
        "isspace",
        "isupper",
        "islower",
        "format",
        # pure reads of datetimes
        "strftime",
        "date",
        "weekday",
        "isoweekday",
    }
)
"""Methods callable on any value: pure reads of strings, lists, dicts, times and tasks."""

CONTEXT_ATTRIBUTES = frozenset(
    {
        "current_utc_datetime",
        "instance_id",
        "execution_id",
        "is_replaying",
        "name",
        "parent_instance_id",
    }
)
"""The replay-safe attributes of the orchestration context an expression may read."""


CONTEXT_METHODS = frozenset({"new_uuid"})
"""Context methods an expression may call: replay-safe, and evaluated in source order."""


class ContextView:
    """Read-only view of an orchestration context: only :data:`CONTEXT_ATTRIBUTES`."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def read(self, attr: str) -> Any:
        """Return the context attribute ``attr``."""
        return getattr(self._ctx, attr)


class _Namespace:
    """A module of :data:`NAMESPACES` named in an expression (``json``)."""

    __slots__ = ("functions", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.functions = NAMESPACES[name]


class _Method:
    """A whitelisted bound method, the only callable besides :data:`BUILTINS`."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
AUGMENTED: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
}
_CMPOPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "is": operator.is_,
    "is not": operator.is_not,
}


def evaluate(expr: Expr, env: Mapping[str, Any]) -> Any:
    """Evaluate ``expr`` with variables from ``env`` and the whitelisted builtins.

    Raises:
        ExpressionEvalError: any failure, with the Python exception in ``original``.
    """
    try:
        return _Evaluator(env).eval(expr)
    except ExpressionEvalError as err:
        if not err.expression:
            err.expression = print_expression(expr)
            err.args = (f"{err.args[0]} in `{err.expression}`",)
        raise
    except RecursionError as exc:
        raise ExpressionEvalError("expression nested too deeply", "", exc) from None
    except Exception as exc:
        raise ExpressionEvalError(f"{type(exc).__name__}: {exc}", "", exc) from None


def assign_target(target: Expr, value: Any, env: MutableMapping[str, Any]) -> None:
    """Bind ``value`` to an assignment target: a name, a tuple/list of targets, or ``x[i]``.

    Raises:
        ExpressionEvalError: unpacking or item assignment failed, or the target is invalid.
    """
    try:
        _Evaluator(env).assign(target, value)
    except ExpressionEvalError:
        raise
    except Exception as exc:
        raise ExpressionEvalError(f"{type(exc).__name__}: {exc}", "", exc) from None


class _Evaluator:
    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env

    def assign(self, target: Expr, value: Any) -> None:
        env = self.env
        if not isinstance(env, MutableMapping):
            raise ExpressionEvalError("cannot assign in a read-only environment")
        if isinstance(target, Name):
            env[target.id] = value
        elif isinstance(target, TupleExpr | ListExpr):
            items = list(value)
            if len(items) != len(target.elts):
                raise ValueError(_unpack_message(len(target.elts), len(items)))
            for sub, item in zip(target.elts, items, strict=True):
                self.assign(sub, item)
        elif isinstance(target, Subscript):
            container = self.eval(target.value)
            container[self.eval(target.index)] = value
        else:
            raise ExpressionEvalError(f"cannot assign to {type(target).__name__}")

    def eval(self, e: Expr) -> Any:
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Name):
            if e.id in self.env:
                return self.env[e.id]
            if e.id in BUILTINS:
                return BUILTINS[e.id]
            if e.id in NAMESPACES:
                return _Namespace(e.id)
            raise NameError(f"name {e.id!r} is not defined")
        if isinstance(e, BinOp):
            left, right = self.eval(e.left), self.eval(e.right)
            _check_size(e.op, left, right)
            return _BINOPS[e.op](left, right)
        if isinstance(e, UnaryOp):
            value = self.eval(e.operand)
            if e.op == "not":
                return not value
            return -value if e.op == "-" else +value
        if isinstance(e, BoolOp):
            result: Any = None
            for sub in e.values:
                result = self.eval(sub)
                if (e.op == "and") != bool(result):
                    return result
            return result
        if isinstance(e, Compare):
            left = self.eval(e.left)
            for op, right_expr in zip(e.ops, e.comparators, strict=True):
                right = self.eval(right_expr)
                if not _CMPOPS[op](left, right):
                    return False
                left = right
            return True
        if isinstance(e, IfExp):
            return self.eval(e.body) if self.eval(e.test) else self.eval(e.orelse)
        if isinstance(e, Attribute):
            return self._attribute(self.eval(e.value), e.attr)
        if isinstance(e, Subscript):
            value = self.eval(e.value)
            return value[self.eval(e.index)]
        if isinstance(e, Slice):
            return slice(*(None if p is None else self.eval(p) for p in (e.lower, e.upper, e.step)))
        if isinstance(e, Call):
            return self._call(e)
        if isinstance(e, ListExpr):
            return [self.eval(x) for x in e.elts]
        if isinstance(e, TupleExpr):
            return tuple(self.eval(x) for x in e.elts)
        if isinstance(e, DictExpr):
            result_dict: dict[Any, Any] = {}
            for k, v in zip(e.keys, e.values, strict=True):
                if k is None:
                    result_dict.update(_as_mapping(self.eval(v)))
                else:
                    key = self.eval(k)
                    result_dict[key] = self.eval(v)
            return result_dict
        if isinstance(e, ListComp):
            if e.kind == "gen":
                return self._generate(e, 0, dict(self.env))
            out: list[Any] = []
            self._comprehend(e, 0, dict(self.env), out)
            if e.kind == "dict":
                return dict(out)
            return out
        raise ExpressionEvalError(f"cannot evaluate {type(e).__name__}")

    def _comprehend(self, e: ListComp, i: int, scope: dict[str, Any], out: list[Any]) -> None:
        clause: CompFor = e.clauses[i]
        inner = _Evaluator(scope)
        for item in _bounded(inner.eval(clause.iter)):
            _bind_names(clause, item, scope)
            if all(inner.eval(cond) for cond in clause.ifs):
                if i + 1 < len(e.clauses):
                    self._comprehend(e, i + 1, scope, out)
                elif e.kind == "dict" and e.value is not None:
                    key = inner.eval(e.elt)
                    out.append((key, inner.eval(e.value)))
                else:
                    out.append(inner.eval(e.elt))

    def _generate(self, e: ListComp, i: int, scope: dict[str, Any]) -> Iterator[Any]:
        """A generator expression: lazy, like Python's, so ``any``/``all`` stop early.

        As in Python, the first ``for`` clause's iterable is evaluated at once; errors inside
        surface as ``ExpressionEvalError`` from whoever consumes it.
        """
        clause: CompFor = e.clauses[i]
        inner = _Evaluator(scope)
        values = _bounded(inner.eval(clause.iter))

        def run(values: Iterable[Any]) -> Iterator[Any]:
            try:
                for item in values:
                    _bind_names(clause, item, scope)
                    if all(inner.eval(cond) for cond in clause.ifs):
                        if i + 1 < len(e.clauses):
                            yield from self._generate(e, i + 1, scope)
                        else:
                            yield inner.eval(e.elt)
            except ExpressionEvalError:
                raise
            except Exception as exc:
                raise ExpressionEvalError(f"{type(exc).__name__}: {exc}", "", exc) from None

        return run(values)

    def _attribute(self, value: Any, attr: str) -> Any:
        if attr.startswith("_"):
            raise ExpressionEvalError(f"attribute {attr!r} is private")
        if isinstance(value, _Namespace):
            if attr not in value.functions:
                raise ExpressionEvalError(f"{value.name}.{attr} cannot be called in expressions")
            return _Method(value.functions[attr])
        if isinstance(value, ContextView):
            if attr in CONTEXT_METHODS:
                return _Method(value.read(attr))
            if attr not in CONTEXT_ATTRIBUTES:
                raise ExpressionEvalError(
                    f"context attribute {attr!r} cannot be read in an expression; readable: "
                    + ", ".join(sorted(CONTEXT_ATTRIBUTES))
                )
            return value.read(attr)
        if attr in SAFE_METHODS:
            return _Method(getattr(value, attr))
        if attr in SAFE_ATTRIBUTES:
            return getattr(value, attr)
        raise ExpressionEvalError(f"attribute {attr!r} is not readable in expressions")

    def _call(self, e: Call) -> Any:
        func = self.eval(e.func)
        args = [self.eval(a) for a in e.args]
        kwargs = {k: self.eval(v) for k, v in e.kwargs}
        if isinstance(func, _Method):
            return func.fn(*args, **kwargs)
        if any(func is f for f in BUILTINS.values()):
            for a in args:
                if isinstance(a, range) and len(a) > _MAX_SEQUENCE:
                    raise ExpressionEvalError("range too large to evaluate")
            return func(*args, **kwargs)
        raise ExpressionEvalError(f"{type(func).__name__} value is not callable in expressions")


def _bind_names(clause: CompFor, item: Any, scope: dict[str, Any]) -> None:
    if not clause.is_tuple:
        scope[clause.targets[0]] = item
        return
    items = list(item)
    if len(items) != len(clause.targets):
        raise ValueError(_unpack_message(len(clause.targets), len(items)))
    for name, value in zip(clause.targets, items, strict=True):
        scope[name] = value


def _as_mapping(value: Any) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"'{type(value).__name__}' object is not a mapping")
    return value


def _unpack_message(expected: int, got: int) -> str:
    if got > expected:
        return f"too many values to unpack (expected {expected})"
    return f"not enough values to unpack (expected {expected}, got {got})"


def _bounded(values: Any) -> Iterable[Any]:
    if isinstance(values, range) and len(values) > _MAX_SEQUENCE:
        raise ExpressionEvalError("range too large to iterate in an expression")
    return values  # type: ignore[no-any-return]


def _check_size(op: str, left: Any, right: Any) -> None:
    too_big = isinstance(right, int) and abs(right) > _MAX_EXPONENT
    if op == "**" and too_big and isinstance(left, int) and abs(left) > 1:
        raise ExpressionEvalError("exponent too large to evaluate")
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            sized = isinstance(seq, str | list | tuple) and isinstance(n, int)
            if sized and len(seq) * n > _MAX_SEQUENCE:
                raise ExpressionEvalError("repeated sequence too large to evaluate")
