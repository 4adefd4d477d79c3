"""Translate LibCST expressions into checked expression-language text.

Every expression the compiler emits goes through :meth:`ExpressionTranslator.translate`: the
CST is screened for constructs outside the language, rendered as text (f-strings become
``str()`` concatenations), parsed with the package grammar, and its names, calls and
attributes are checked. Problems are recorded as :class:`CompileError` values, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange

from durableflow.compiler.banned import nondeterminism_hint
from durableflow.compiler.errors import CompileError
from durableflow.compiler.fstrings import Concatenations, FStrings, has_concatenated_fstring
from durableflow.compiler.inline import Inliner
from durableflow.discovery import ImportTable, dotted_name
from durableflow.ir import ast as ea
from durableflow.ir.errors import ExpressionSyntaxError
from durableflow.ir.evaluate import (
    BUILTINS,
    CONTEXT_ATTRIBUTES,
    CONTEXT_METHODS,
    NAMESPACES,
    SAFE_ATTRIBUTES,
    SAFE_METHODS,
)
from durableflow.ir.parse import parse_expression
from durableflow.ir.printer import print_expression

__all__ = ["DURABLE_METHODS", "ExpressionTranslator", "FunctionScope", "is_ctx_call"]

DURABLE_METHODS = frozenset(
    {
        "call_activity",
        "call_sub_orchestrator",
        "create_timer",
        "wait_for_external_event",
        "task_all",
        "task_any",
        "continue_as_new",
    }
)


def is_ctx_call(node: cst.BaseExpression, ctx: str, methods: frozenset[str]) -> bool:
    """True for ``ctx.<method>(...)`` with ``method`` in ``methods``."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and isinstance(node.func.value, cst.Name)
        and node.func.value.value == ctx
        and node.func.attr.value in methods
    )


@dataclass
class FunctionScope:
    """What the translator knows about the function being compiled."""

    path: str
    function: str
    ctx_param: str
    positions: Mapping[cst.CSTNode, CodeRange]
    module: cst.Module
    imports: ImportTable
    local_names: set[str]
    module_constants: dict[str, cst.BaseExpression]
    constants: dict[str, str] = field(default_factory=dict)
    helpers: dict[str, cst.FunctionDef] = field(default_factory=dict)
    generators: dict[str, cst.FunctionDef] = field(default_factory=dict)
    local_values: dict[str, cst.BaseExpression] = field(default_factory=dict)
    errors: list[CompileError] = field(default_factory=list)

    def error(self, node: cst.CSTNode | None, code: str, message: str, hint: str) -> None:
        """Record an error at ``node``'s start."""
        line, col = self.start(node)
        self.errors.append(CompileError(code, message, hint, self.path, line, col, self.function))

    def error_at(self, line: int, col: int, code: str, message: str, hint: str) -> None:
        """Record an error at a 1-based line and column."""
        self.errors.append(CompileError(code, message, hint, self.path, line, col, self.function))

    def start(self, node: cst.CSTNode | None) -> tuple[int, int]:
        """1-based (line, column) of ``node``."""
        if node is None or node not in self.positions:
            return (1, 1)
        pos = self.positions[node].start
        return (pos.line, pos.column + 1)


class _Screen(cst.CSTVisitor):
    """Finds CST constructs the expression language has no counterpart for."""

    def __init__(self, scope: FunctionScope) -> None:
        self.scope = scope
        self.ok = True

    def _bad(self, node: cst.CSTNode, code: str, message: str, hint: str) -> bool:
        self.scope.error(node, code, message, hint)
        self.ok = False
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return self._bad(node, "DFC002", "lambda in an orchestrator", "compute it in an activity")

    def visit_Await(self, node: cst.Await) -> bool:
        return self._bad(node, "DFC001", "await in an orchestrator", "use `yield` on durable tasks")

    def visit_Yield(self, node: cst.Yield) -> bool:
        return self._bad(
            node,
            "DFC005",
            "yield inside an expression",
            "assign the result first: `x = yield ctx.call_activity(...)`, then use `x`",
        )

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        return self._bad(node, "DFC013", "assignment expression (:=)", "use a separate assignment")

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._bad(
            node, "DFC013", "set comprehension (iteration order varies)", "use a sorted list"
        )

    def visit_Set(self, node: cst.Set) -> bool:
        return self._bad(node, "DFC013", "set literal (iteration order varies)", "use a list")

    def visit_StarredElement(self, node: cst.StarredElement) -> bool:
        return self._bad(node, "DFC013", "starred expression", "build the list explicitly")

    def visit_Call(self, node: cst.Call) -> bool:
        ctx = self.scope.ctx_param
        if is_ctx_call(node, ctx, DURABLE_METHODS):
            return self._bad(
                node,
                "DFC007",
                f"durable call `{self.scope.module.code_for_node(node.func)}` inside an expression",
                "make it a statement of its own: `x = yield ctx.call_activity(...)`",
            )
        for arg in node.args:
            if arg.star:
                return self._bad(node, "DFC013", "*args / **kwargs in a call", "pass arguments")
        return True


class ExpressionTranslator:
    """Checks and renders expressions for one function."""

    def __init__(self, scope: FunctionScope) -> None:
        self.scope = scope

    def translate(
        self, node: cst.BaseExpression, assigned: frozenset[str], *, target: bool = False
    ) -> str | None:
        """Checked, canonical expression text for ``node``, or None after recording errors.

        Args:
            node: The expression.
            assigned: Names definitely assigned at this point.
            target: ``node`` is an assignment target (names in it are written, not read).
        """
        original = node
        if self.scope.helpers:
            inliner = Inliner(self.scope.helpers, self.scope.local_names)
            inlined = node.visit(inliner)
            if inliner.inlined and isinstance(inlined, cst.BaseExpression):
                node = inlined
        screen = _Screen(self.scope)
        node.visit(screen)
        if not screen.ok:
            return None
        rewriter = FStrings(self.scope, original)
        if has_concatenated_fstring(node):
            joined = node.visit(Concatenations())
            if isinstance(joined, cst.BaseExpression):
                node = joined
        rewritten = node.visit(rewriter)
        if not rewriter.ok or not isinstance(rewritten, cst.BaseExpression):
            return None
        text = self.scope.module.code_for_node(rewritten)
        line, col = self.scope.start(original)
        try:
            tree = parse_expression(text)
        except ExpressionSyntaxError as exc:
            self.scope.error_at(
                line + exc.line - 1,
                (col + exc.column - 1) if exc.line == 1 else exc.column,
                "DFC013",
                f"not in the expression language: {exc.reason}",
                "simplify it, or compute the value in an activity",
            )
            return None
        before = len(self.scope.errors)
        if target:
            self._check_target(tree, line, col, assigned)
        else:
            self._check(tree, assigned, frozenset(), line, col)
        if len(self.scope.errors) != before:
            return None
        return print_expression(tree)

    # -- checks -----------------------------------------------------------------------------
    def _at(self, e: ea.Expr, line: int, col: int) -> tuple[int, int]:
        if e.line <= 1:
            return (line, col + max(e.column, 1) - 1)
        return (line + e.line - 1, e.column)

    def _check_target(self, e: ea.Expr, line: int, col: int, assigned: frozenset[str]) -> None:
        if isinstance(e, ea.Name):
            return
        if isinstance(e, ea.TupleExpr | ea.ListExpr):
            for sub in e.elts:
                self._check_target(sub, line, col, assigned)
            return
        if isinstance(e, ea.Subscript) and isinstance(e.value, ea.Name):
            self._check(e.value, assigned, frozenset(), line, col)
            self._check(e.index, assigned, frozenset(), line, col)
            return
        self.scope.error_at(
            *self._at(e, line, col),
            "DFC017",
            "unsupported assignment target",
            "assign to a name, a tuple of names, or `name[key]`",
        )

    def _check(
        self, e: ea.Expr, assigned: frozenset[str], bound: frozenset[str], line: int, col: int
    ) -> None:
        def rec(sub: ea.Expr | None, extra: frozenset[str] = frozenset()) -> None:
            if sub is not None:
                self._check(sub, assigned, bound | extra, line, col)

        if isinstance(e, ea.Name):
            self._check_name(e, assigned, bound, line, col)
        elif isinstance(e, ea.Attribute):
            if isinstance(e.value, ea.Name) and e.value.id == self.scope.ctx_param:
                if e.attr not in CONTEXT_ATTRIBUTES:
                    self.scope.error_at(
                        *self._at(e, line, col),
                        "DFC020",
                        f"`{e.value.id}.{e.attr}` cannot be used in a compiled expression",
                        "readable context values: " + ", ".join(sorted(CONTEXT_ATTRIBUTES)),
                    )
                return
            if e.attr not in SAFE_ATTRIBUTES and e.attr not in SAFE_METHODS:
                self._unknown_attribute(e, assigned, line, col)
                return
            rec(e.value)
        elif isinstance(e, ea.Call):
            self._check_call(e, assigned, bound, line, col)
            if isinstance(e.func, ea.Attribute) and e.func.attr in SAFE_METHODS:
                rec(e.func)
            for a in e.args:
                rec(a)
            for _, v in e.kwargs:
                rec(v)
        elif isinstance(e, ea.ListComp):
            names: frozenset[str] = frozenset()
            for clause in e.clauses:
                rec(clause.iter, names)
                names = names | frozenset(clause.targets)
                for cond in clause.ifs:
                    rec(cond, names)
            rec(e.elt, names)
        else:
            for child in _children(e):
                rec(child)

    def _check_name(
        self, e: ea.Name, assigned: frozenset[str], bound: frozenset[str], line: int, col: int
    ) -> None:
        name = e.id
        scope = self.scope
        if name in bound or name in assigned:
            return
        if name == scope.ctx_param:
            scope.error_at(
                *self._at(e, line, col),
                "DFC020",
                f"`{name}` used as a value",
                "read one of its attributes, e.g. `ctx.current_utc_datetime`",
            )
            return
        if name in scope.local_names:
            scope.error_at(
                *self._at(e, line, col),
                "DFC012",
                f"`{name}` may be unassigned here",
                "assign it on every path before this point (e.g. before the if/loop/try)",
            )
            return
        if name in BUILTINS:
            return
        if name in scope.module_constants:
            self._add_constant(name)
            return
        qualified = scope.imports.resolve(name) or f"builtins.{name}"
        hint = nondeterminism_hint(qualified)
        if hint is not None:
            scope.error_at(
                *self._at(e, line, col), "DFC010", f"nondeterministic: {hint}", "see durable-lint"
            )
            return
        scope.error_at(
            *self._at(e, line, col),
            "DFC012",
            f"`{name}` is not defined in the orchestrator",
            "compiled expressions see local variables, module constants and the builtins "
            + ", ".join(sorted(BUILTINS))
            + "; compute anything else in an activity",
        )

    def _add_constant(self, name: str) -> None:
        scope = self.scope
        if name in scope.constants:
            return
        scope.constants[name] = ""  # guard against self reference while checking
        text = self.translate(scope.module_constants[name], frozenset())
        if text is None:
            del scope.constants[name]
        else:
            scope.constants[name] = text

    def _dotted(self, e: ea.Expr) -> str | None:
        if isinstance(e, ea.Name):
            return e.id
        if isinstance(e, ea.Attribute):
            head = self._dotted(e.value)
            return None if head is None else f"{head}.{e.attr}"
        return None

    def _unknown_attribute(
        self, e: ea.Attribute, assigned: frozenset[str], line: int, col: int
    ) -> None:
        dotted = self._dotted(e)
        if dotted is not None:
            head = dotted.split(".")[0]
            if head not in assigned and head not in self.scope.local_names:
                qualified = self.scope.imports.resolve(dotted)
                hint = nondeterminism_hint(qualified) if qualified else None
                if hint is not None:
                    self.scope.error_at(
                        *self._at(e, line, col),
                        "DFC010",
                        f"nondeterministic: {hint}",
                        "see durable-lint",
                    )
                    return
        self.scope.error_at(
            *self._at(e, line, col),
            "DFC011",
            f"attribute `{e.attr}` is outside the expression language",
            "readable attributes: "
            + ", ".join(sorted(SAFE_ATTRIBUTES | SAFE_METHODS))
            + "; compute anything else in an activity",
        )

    def _check_call(
        self, e: ea.Call, assigned: frozenset[str], bound: frozenset[str], line: int, col: int
    ) -> None:
        func = e.func
        if isinstance(func, ea.Name):
            if func.id in bound or func.id in assigned or func.id in self.scope.local_names:
                self.scope.error_at(
                    *self._at(e, line, col),
                    "DFC011",
                    f"call of variable `{func.id}`",
                    "only builtins and pure methods can be called in compiled expressions",
                )
            elif func.id not in BUILTINS:
                self._bad_call(e, func.id, line, col)
            return
        if isinstance(func, ea.Attribute):
            if func.attr in SAFE_METHODS:
                return
            dotted = self._dotted(func)
            if dotted == f"{self.scope.ctx_param}.{func.attr}" and func.attr in CONTEXT_METHODS:
                return
            if dotted is not None and self._namespace_call(dotted, assigned | bound):
                return
            if dotted is not None and dotted.split(".")[0] == self.scope.ctx_param:
                self.scope.error_at(
                    *self._at(e, line, col),
                    "DFC020",
                    f"`{dotted}()` is not supported in compiled orchestrators",
                    "durable calls must be statements (`x = yield ctx.call_activity(...)`); "
                    "other context methods are not available to graphs",
                )
                return
            self._bad_call(e, dotted or func.attr, line, col)
            return
        self.scope.error_at(
            *self._at(e, line, col),
            "DFC011",
            "call of a computed value",
            "only builtins and pure methods can be called in compiled expressions",
        )

    def _namespace_call(self, dotted: str, local: frozenset[str]) -> bool:
        """``json.dumps(...)`` with ``json`` the imported module (not a local)."""
        head, _, attr = dotted.partition(".")
        if head not in NAMESPACES or attr not in NAMESPACES[head]:
            return False
        if head in local or head in self.scope.local_names:
            return False
        return self.scope.imports.resolve(head) == head

    def _bad_call(self, e: ea.Call, dotted: str, line: int, col: int) -> None:
        head = dotted.split(".")[0]
        qualified = self.scope.imports.resolve(dotted)
        if qualified is None and head not in self.scope.module_constants:
            qualified = f"builtins.{dotted}"
        hint = nondeterminism_hint(qualified) if qualified else None
        if hint is not None:
            self.scope.error_at(
                *self._at(e, line, col), "DFC010", f"nondeterministic: {hint}", "see durable-lint"
            )
            return
        self.scope.error_at(
            *self._at(e, line, col),
            "DFC011",
            f"call of `{dotted}` is outside the expression language",
            "move it into an activity and `yield ctx.call_activity(...)` its result; "
            "compiled expressions may call only " + ", ".join(sorted(BUILTINS)),
        )


def _children(e: ea.Expr) -> list[ea.Expr]:
    out: list[ea.Expr] = []
    for name in getattr(e, "__dataclass_fields__", {}):
        value = getattr(e, name)
        if isinstance(value, ea.Expr):
            out.append(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, ea.Expr):
                    out.append(item)
    return out


def constant_names(module: cst.Module) -> dict[str, cst.BaseExpression]:
    """Module-level ``NAME = expr`` assignments (the last one wins)."""
    out: dict[str, cst.BaseExpression] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    out[target.value] = small.value
            elif (
                isinstance(small, cst.AnnAssign)
                and small.value is not None
                and isinstance(small.target, cst.Name)
            ):
                out[small.target.value] = small.value
    return out


__all__ += ["constant_names", "dotted_name"]
