"""Inline calls of pure helper functions of the same module into compiled expressions.

Orchestrators call small helpers of their own module (``total = order_total(items)``). A helper
whose body is straight-line assignments, ``if``/``elif``/``else`` and ``return`` statements is an
expression in disguise: ``x = e; return f(x)`` is ``f(e)``, ``if c: return a`` followed by
``return b`` is ``a if c else b``. The call is replaced by that expression with the arguments
substituted for the parameters; the translator then checks the result like any expression, so a
helper that reads the clock or calls outside the language is still an error. Helpers with loops,
``raise``, ``yield``, defaults that are not constants, or ``*args`` are left alone (the call is then
reported as outside the language).

Substitution can evaluate an argument more than once or not at all; arguments are pure
expressions, so only the work done changes, not the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from durableflow.discovery import is_generator

__all__ = ["Inliner", "helper_functions", "rename"]

_MAX_DEPTH = 8
_MAX_SIZE = 4000


def helper_functions(module: cst.Module, exclude: set[str]) -> dict[str, cst.FunctionDef]:
    """Undecorated, synchronous module-level functions, minus ``exclude`` (orchestrators)."""
    return {
        stmt.name.value: stmt
        for stmt in module.body
        if isinstance(stmt, cst.FunctionDef)
        and not stmt.decorators
        and stmt.asynchronous is None
        and stmt.name.value not in exclude
        and not is_generator(stmt)
    }


class _Names(cst.CSTVisitor):
    """Free names of an expression (attribute names and keywords are not names)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.skip: set[int] = set()
        self.bound: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        for target in _target_names(node.target):
            self.bound.add(target)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.skip:
            self.names.add(node.value)


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _target_names(e.value)]
    return []


def _names(node: cst.CSTNode) -> _Names:
    finder = _Names()
    node.visit(finder)
    return finder


class _Substitute(cst.CSTTransformer):
    def __init__(self, mapping: Mapping[str, cst.BaseExpression]) -> None:
        self.mapping = mapping
        self.skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if id(original) in self.skip or original.value not in self.mapping:
            return updated
        return _parenthesized(self.mapping[original.value])


def rename(node: cst.CSTNode, mapping: Mapping[str, str]) -> cst.CSTNode:
    """``node`` with every name in ``mapping`` (reads and writes alike) renamed."""
    renamed = node.visit(_Substitute({old: cst.Name(new) for old, new in mapping.items()}))
    assert isinstance(renamed, cst.CSTNode)  # a name substitution never removes a node
    return renamed


def _parenthesized(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Name | cst.SimpleString | cst.Integer | cst.Float) or node.lpar:
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _substitute(
    node: cst.BaseExpression, mapping: Mapping[str, cst.BaseExpression]
) -> cst.BaseExpression | None:
    if _names(node).bound & set(mapping):
        return None  # a comprehension rebinds a substituted name: leave it alone
    result = node.visit(_Substitute(mapping))
    return result if isinstance(result, cst.BaseExpression) else None


def _sequence(statements: Sequence[cst.BaseStatement]) -> cst.BaseExpression | None:
    if not statements:
        return cst.Name("None")
    first, rest = statements[0], list(statements[1:])
    if isinstance(first, cst.SimpleStatementLine):
        if len(first.body) != 1:
            return None
        small = first.body[0]
        if isinstance(small, cst.Return):
            return small.value if small.value is not None else cst.Name("None")
        if isinstance(small, cst.Pass) or (
            isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        ):
            return _sequence(rest)
        target: cst.BaseExpression | None = None
        value: cst.BaseExpression | None = None
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target, value = small.targets[0].target, small.value
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            target, value = small.target, small.value
        if not isinstance(target, cst.Name) or value is None:
            return None
        after = _sequence(rest)
        return None if after is None else _substitute(after, {target.value: value})
    if isinstance(first, cst.If):
        then = (
            _sequence([*first.body.body, *rest])
            if isinstance(first.body, cst.IndentedBlock)
            else None
        )
        orelse: cst.BaseExpression | None
        if first.orelse is None:
            orelse = _sequence(rest)
        elif isinstance(first.orelse, cst.If):
            orelse = _sequence([first.orelse, *rest])
        elif isinstance(first.orelse.body, cst.IndentedBlock):
            orelse = _sequence([*first.orelse.body.body, *rest])
        else:
            orelse = None
        if then is None or orelse is None:
            return None
        return cst.IfExp(
            test=_parenthesized(first.test),
            body=_parenthesized(then),
            orelse=_parenthesized(orelse),
            lpar=[cst.LeftParen()],
            rpar=[cst.RightParen()],
        )
    return None


def _body_expression(
    fn: cst.FunctionDef,
) -> tuple[tuple[str, ...], dict[str, cst.BaseExpression], cst.BaseExpression] | None:
    params = fn.params
    if isinstance(params.star_arg, cst.Param | cst.ParamStar) or params.star_kwarg is not None:
        return None
    if params.kwonly_params:
        return None
    names = tuple(p.name.value for p in (*params.posonly_params, *params.params))
    defaults: dict[str, cst.BaseExpression] = {}
    for p in (*params.posonly_params, *params.params):
        if p.default is not None:
            if _names(p.default).names - {"None", "True", "False"}:
                return None
            defaults[p.name.value] = p.default
    if not isinstance(fn.body, cst.IndentedBlock):
        return None
    expression = _sequence(list(fn.body.body))
    if expression is None or len(cst.Module(body=[]).code_for_node(expression)) > _MAX_SIZE:
        return None
    return names, defaults, expression


class Inliner(cst.CSTTransformer):
    """Replaces calls of inlinable helpers in one expression.

    Args:
        helpers: The module's candidate helpers by name.
        local_names: The orchestrator's local names: a helper whose free names include one of
            them is not inlined (it would read the local instead of the global it means).
    """

    def __init__(self, helpers: Mapping[str, cst.FunctionDef], local_names: set[str]) -> None:
        self.helpers = helpers
        self.local_names = local_names
        self.depth = 0
        self.cache: dict[
            str, tuple[tuple[str, ...], dict[str, cst.BaseExpression], cst.BaseExpression] | None
        ] = {}
        self.inlined = False

    def _expression(
        self, name: str
    ) -> tuple[tuple[str, ...], dict[str, cst.BaseExpression], cst.BaseExpression] | None:
        if name not in self.cache:
            found = _body_expression(self.helpers[name])
            if found is not None:
                params, _, expression = found
                free = _names(expression).names - set(params)
                if free & self.local_names:
                    found = None
            self.cache[name] = found
        return self.cache[name]

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = updated.func
        if not isinstance(func, cst.Name) or func.value in self.local_names:
            return updated
        if func.value not in self.helpers or self.depth >= _MAX_DEPTH:
            return updated
        found = self._expression(func.value)
        if found is None:
            return updated
        params, defaults, expression = found
        bound: dict[str, cst.BaseExpression] = {}
        for i, arg in enumerate(updated.args):
            if arg.star:
                return updated
            key = (
                arg.keyword.value
                if arg.keyword is not None
                else (params[i] if i < len(params) else None)
            )
            if key is None or key not in params or key in bound:
                return updated
            bound[key] = arg.value
        for name in params:
            if name not in bound:
                if name not in defaults:
                    return updated
                bound[name] = defaults[name]
        result = _substitute(expression, bound)
        if result is None:
            return updated
        self.depth += 1
        try:
            nested = result.visit(self)
        finally:
            self.depth -= 1
        if not isinstance(nested, cst.BaseExpression):
            return updated
        self.inlined = True
        return _parenthesized(nested)
