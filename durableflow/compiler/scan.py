"""Small CST scans and exit helpers shared by the lowering modules."""

from __future__ import annotations

import libcst as cst

from durableflow.compiler.builder import Exit
from durableflow.compiler.expressions import DURABLE_METHODS, is_ctx_call
from durableflow.ir import ast as ea
from durableflow.ir.parse import parse_expression

__all__ = [
    "AUG_OPS",
    "FANOUT",
    "LOG_HEADS",
    "LOG_METHODS",
    "RESULT_VAR",
    "SINGLE_TASK",
    "as_back",
    "bound_names",
    "forget",
    "has_bare_raise",
    "has_durable",
    "target_label",
    "target_names",
]

SINGLE_TASK = frozenset(
    {
        "call_activity",
        "call_sub_orchestrator",
        "create_timer",
        "wait_for_external_event",
        "continue_as_new",
    }
)
FANOUT = frozenset({"call_activity", "call_sub_orchestrator"})
LOG_HEADS = frozenset({"logging", "logger", "log", "_log", "_logger", "LOG", "LOGGER"})
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
AUG_OPS = {
    cst.AddAssign: "+=",
    cst.SubtractAssign: "-=",
    cst.MultiplyAssign: "*=",
    cst.DivideAssign: "/=",
    cst.FloorDivideAssign: "//=",
    cst.ModuloAssign: "%=",
}
RESULT_VAR = "__df_result"


def target_names(text: str) -> frozenset[str]:
    """Names an assignment target binds (``a, (b, c)`` -> a, b, c; ``x[k]`` -> none)."""
    out: set[str] = set()

    def walk(e: ea.Expr) -> None:
        if isinstance(e, ea.Name):
            out.add(e.id)
        elif isinstance(e, ea.TupleExpr | ea.ListExpr):
            for sub in e.elts:
                walk(sub)

    walk(parse_expression(text))
    return frozenset(out)


class _DurableFinder(cst.CSTVisitor):
    def __init__(self, ctx: str) -> None:
        self.ctx = ctx
        self.found = False

    def visit_Call(self, node: cst.Call) -> bool:
        if is_ctx_call(node, self.ctx, DURABLE_METHODS):
            self.found = True
        return not self.found


class _RaiseFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Raise(self, node: cst.Raise) -> bool:
        if node.exc is None:
            self.found = True
        return False

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        return False  # a nested handler's bare raise re-raises its own exception


class _BoundNames(cst.CSTVisitor):
    """Every name the function binds anywhere (so reads of them are local reads)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def _target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self.names.add(node.value)
        elif isinstance(node, cst.Tuple | cst.List):
            for el in node.elements:
                self._target(el.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._target(t.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.names.add(node.name.name.value)

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        return True  # comprehension variables are local to the comprehension

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def bound_names(node: cst.CSTNode) -> set[str]:
    """Every name ``node`` binds (assignment, for and except targets), not inside nested
    functions or comprehensions."""
    finder = _BoundNames()
    node.visit(finder)
    return finder.names


def has_bare_raise(body: cst.BaseSuite) -> bool:
    """True if ``body`` re-raises with a bare ``raise`` (outside nested handlers)."""
    finder = _RaiseFinder()
    body.visit(finder)
    return finder.found


def as_back(e: Exit) -> Exit:
    """The exit as a loop's back edge (a plain ``next`` becomes ``back``)."""
    return (
        Exit(e.source, "back", e.assigned, e.order, e.guard, e.names, e.bind)
        if e.kind == "next"
        else e
    )


def forget(e: Exit, name: str | None) -> Exit:
    """The exit without ``name`` among its assigned names (Python unbinds ``except ... as``)."""
    if name is None:
        return e
    return Exit(e.source, e.kind, e.assigned - {name}, e.order, e.guard, e.names, e.bind)


def target_label(target: str) -> str:
    """Id label of an assignment: its names (``a,b``), or the subscripted name (``d``)."""
    names = sorted(target_names(target))
    if names:
        return ",".join(names)
    tree = parse_expression(target)
    while isinstance(tree, ea.Subscript):
        tree = tree.value
    return tree.id if isinstance(tree, ea.Name) else "item"


def has_durable(node: cst.CSTNode, ctx: str) -> bool:
    """True if ``node`` contains a durable ``ctx`` call anywhere."""
    finder = _DurableFinder(ctx)
    node.visit(finder)
    return finder.found


def _names_of(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return {n for el in target.elements for n in _names_of(el.value)}
    if isinstance(target, cst.StarredElement):
        return _names_of(target.value)
    return set()


class _Assignments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.values: dict[str, cst.BaseExpression] = {}
        self.counts: dict[str, int] = {}

    def _count(self, names: set[str]) -> None:
        for name in names:
            self.counts[name] = self.counts.get(name, 0) + 1

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.values[target.target.value] = node.value
            self._count(_names_of(target.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, cst.Name):
            self.values[node.target.value] = node.value
            self._count({node.target.value})

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._count(_names_of(node.target))

    def visit_For(self, node: cst.For) -> None:
        self._count(_names_of(node.target))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._count({node.name.name.value})

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def single_assignments(body: cst.CSTNode, params: set[str]) -> dict[str, cst.BaseExpression]:
    """Locals assigned exactly once in the function, by ``name = value``, and never a
    parameter: ``name -> value`` (an activity name or a retry policy held in a variable)."""
    finder = _Assignments()
    body.visit(finder)
    return {
        name: value
        for name, value in finder.values.items()
        if finder.counts.get(name) == 1 and name not in params
    }
