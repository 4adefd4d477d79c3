"""One pass over a function body that collects everything the rules look at.

Rules never walk the tree themselves for the common cases: they read these lists. Names are
resolved here, lazily and only for the references found in checked functions, from the module's
imports, the function's own imports and its local bindings (a local variable shadows a module of
the same name). This is the part of qualified-name resolution the rules need, at a fraction of the
cost of whole-module scope analysis; see docs/linter.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from durableflow.discovery import add_import, dotted_name
from durableflow.linter.modinfo import ModuleInfo
from durableflow.linter.walk import FastVisitor

__all__ = ["DURABLE_METHODS", "FunctionFacts", "Reference", "collect_facts"]

DURABLE_METHODS = frozenset(
    {
        "call_activity",
        "call_activity_with_retry",
        "call_sub_orchestrator",
        "call_sub_orchestrator_with_retry",
        "call_sub_orchestration",
        "create_timer",
        "wait_for_external_event",
        "task_all",
        "task_any",
        "when_all",
        "when_any",
        "call_http",
        "call_entity",
    }
)


@dataclass(frozen=True, slots=True)
class Reference:
    """A resolved ``Name``/``Attribute`` chain.

    Attributes:
        node: The outermost node of the chain.
        qualified: Its qualified name.
        call: The call whose function this chain is, if it is called.
    """

    node: cst.BaseExpression
    qualified: str
    call: cst.Call | None


@dataclass(slots=True)
class FunctionFacts:
    """Facts about one function body (nested functions and lambdas included).

    Attributes:
        node: The function.
        qualname: Its qualified name.
        module: Module-level facts.
        is_orchestrator: Whether it is an orchestrator (not a helper).
        ctx_param: Name of the orchestration-context parameter, if known.
        api: Whose context the function receives (``"durableflow"``, ``"azure"``,
            ``"durabletask"``, ``"dapr"``); rewrites are chosen for it.
        refs: Resolved references.
        calls: Every call, in source order.
        discarded_calls: Calls whose value is thrown away (expression statements).
        guarded: Calls under ``if not <ctx>.is_replaying`` (or its ``else`` branch).
        yields: Every ``yield`` (not ``yield from``) with whether it is in a ``finally``.
        loops: ``while`` and ``for`` statements.
        tries: ``try`` statements.
        imports: Import statements inside the function.
        scope_decls: ``global`` and ``nonlocal`` statements.
        awaits: ``await`` expressions and ``async for``/``async with``/``async def`` nodes.
        iterations: Expressions iterated by ``for`` statements and comprehensions.
        assign_targets: Targets written by assignment, augmented assignment or ``del``.
        mutations: Method calls on plain names: (receiver name, method, call).
        locals: Names bound in the function (parameters, assignments, defs, imports).
        set_locals: Local names assigned a set or frozenset.
        task_vars: Local name -> the durable call assigned to it.
        assigned_calls: Local name -> the last call whose result was assigned to it.
        name_loads: Number of times each plain name is read.
        nested: Ids of calls inside nested functions or lambdas (no rewrites there).
        statement_of: Call id -> the statement line that consists of just that call.
        qualified_by_id: Node id -> qualified name, for every resolved reference.
    """

    node: cst.FunctionDef
    qualname: str
    module: ModuleInfo
    is_orchestrator: bool
    ctx_param: str | None
    api: str = "durableflow"
    refs: list[Reference] = field(default_factory=list)
    calls: list[cst.Call] = field(default_factory=list)
    discarded_calls: list[cst.Call] = field(default_factory=list)
    guarded: set[int] = field(default_factory=set)
    yields: list[tuple[cst.Yield, bool]] = field(default_factory=list)
    loops: list[cst.While | cst.For] = field(default_factory=list)
    tries: list[cst.Try] = field(default_factory=list)
    imports: list[cst.Import | cst.ImportFrom] = field(default_factory=list)
    scope_decls: list[cst.Global | cst.Nonlocal] = field(default_factory=list)
    awaits: list[cst.CSTNode] = field(default_factory=list)
    iterations: list[cst.BaseExpression] = field(default_factory=list)
    assign_targets: list[cst.BaseExpression] = field(default_factory=list)
    mutations: list[tuple[str, str, cst.Call]] = field(default_factory=list)
    locals: set[str] = field(default_factory=set)
    set_locals: set[str] = field(default_factory=set)
    task_vars: dict[str, cst.Call] = field(default_factory=dict)
    assigned_calls: dict[str, cst.Call] = field(default_factory=dict)
    name_loads: dict[str, int] = field(default_factory=dict)
    nested: set[int] = field(default_factory=set)
    statement_of: dict[int, cst.SimpleStatementLine] = field(default_factory=dict)
    qualified_by_id: dict[int, str] = field(default_factory=dict)

    def qualified(self, node: cst.CSTNode) -> str | None:
        """Qualified name of a ``Name``/``Attribute`` collected as a reference, else None."""
        return self.qualified_by_id.get(id(node))

    def fix_context(self, call: cst.Call) -> str | None:
        """The context parameter's name if ``call`` may be rewritten to use it, else None."""
        if not self.is_orchestrator or self.ctx_param is None or id(call) in self.nested:
            return None
        return self.ctx_param

    def is_durable_call(self, node: cst.BaseExpression) -> bool:
        """True for ``<name>.call_activity(...)`` and the other task-creating context methods."""
        return (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in DURABLE_METHODS
            and isinstance(node.func.value, cst.Name | cst.Attribute)
        )


def _is_set_value(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Set | cst.SetComp):
        return True
    return isinstance(value, cst.Call) and dotted_name(value.func) in {"set", "frozenset"}


def _guard_branch(test: cst.BaseExpression) -> str | None:
    """``body`` if the test is ``not x.is_replaying``, ``orelse`` if it is ``x.is_replaying``."""
    if (
        isinstance(test, cst.UnaryOperation)
        and isinstance(test.operator, cst.Not)
        and isinstance(test.expression, cst.Attribute)
        and test.expression.attr.value == "is_replaying"
    ):
        return "body"
    if isinstance(test, cst.Attribute) and test.attr.value == "is_replaying":
        return "orelse"
    # `if not ctx.is_replaying and verbose:` guards its body too.
    if (
        isinstance(test, cst.BooleanOperation)
        and isinstance(test.operator, cst.And)
        and "body" in (_guard_branch(test.left), _guard_branch(test.right))
    ):
        return "body"
    return None


class _Collector(FastVisitor):
    def __init__(self, facts: FunctionFacts) -> None:
        self.facts = facts
        self.stores: set[int] = set()
        self.raw_refs: list[tuple[cst.BaseExpression, str, cst.Call | None]] = []
        self.call_funcs: dict[int, cst.Call] = {}
        self.local_imports: dict[str, str] = {}
        self.guard_depth = 0
        self.finally_depth = 0
        self.nested_depth = 0

    # bindings -----------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.facts.locals.add(target.value)
            self.stores.add(id(target))
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target)
            self.facts.assign_targets.append(target.target)
            if isinstance(target.target, cst.Name):
                name = target.target.value
                if _is_set_value(node.value):
                    self.facts.set_locals.add(name)
                if isinstance(node.value, cst.Call):
                    self.facts.assigned_calls[name] = node.value
                    if self.facts.is_durable_call(node.value):
                        self.facts.task_vars[name] = node.value

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)
        self.facts.assign_targets.append(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target)
        self.facts.assign_targets.append(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self.facts.assign_targets.append(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)
        self.facts.loops.append(node)
        self.facts.iterations.append(node.iter)
        if node.asynchronous is not None:
            self.facts.awaits.append(node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)
        self.facts.iterations.append(node.iter)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.facts.locals.add(node.name.value)
        self.nested_depth += 1
        if node.asynchronous is not None:
            self.facts.awaits.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.nested_depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.nested_depth += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.nested_depth -= 1

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1:
            stmt = node.body[0]
            if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
                self.facts.statement_of[id(stmt.value)] = node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.facts.locals.add(node.name.value)

    def visit_Import(self, node: cst.Import) -> bool:
        self.facts.imports.append(node)
        add_import(node, self.local_imports, [], self.facts.module.module_name)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.facts.imports.append(node)
        add_import(node, self.local_imports, [], self.facts.module.module_name)
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        self.facts.scope_decls.append(node)
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        self.facts.scope_decls.append(node)
        return False

    # control flow ---------------------------------------------------------------
    def visit_While(self, node: cst.While) -> None:
        self.facts.loops.append(node)

    def visit_Try(self, node: cst.Try) -> bool:
        self.facts.tries.append(node)
        self.walk(node.body)
        for handler in node.handlers:
            self.walk(handler)
        if node.orelse is not None:
            self.walk(node.orelse)
        if node.finalbody is not None:
            self.finally_depth += 1
            self.walk(node.finalbody)
            self.finally_depth -= 1
        return False

    def visit_If(self, node: cst.If) -> bool:
        self.walk(node.test)
        branch = _guard_branch(node.test)
        self.guard_depth += branch == "body"
        self.walk(node.body)
        self.guard_depth -= branch == "body"
        if node.orelse is not None:
            self.guard_depth += branch == "orelse"
            self.walk(node.orelse)
            self.guard_depth -= branch == "orelse"
        return False

    def visit_Yield(self, node: cst.Yield) -> None:
        if not isinstance(node.value, cst.From):
            self.facts.yields.append((node, self.finally_depth > 0))

    def visit_Await(self, node: cst.Await) -> None:
        self.facts.awaits.append(node)

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:
            self.facts.awaits.append(node)

    # expressions ----------------------------------------------------------------
    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.facts.discarded_calls.append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        self.facts.calls.append(node)
        self.call_funcs[id(node.func)] = node
        if self.guard_depth:
            self.facts.guarded.add(id(node))
        if self.nested_depth:
            self.facts.nested.add(id(node))
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self.facts.mutations.append((func.value.value, func.attr.value, node))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.stores.add(id(node.keyword))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = dotted_name(node)
        if dotted is None:
            return True
        self.raw_refs.append((node, dotted, self.call_funcs.get(id(node))))
        self.facts.name_loads[dotted.partition(".")[0]] = (
            self.facts.name_loads.get(dotted.partition(".")[0], 0) + 1
        )
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self.stores:
            return
        self.raw_refs.append((node, node.value, self.call_funcs.get(id(node))))
        self.facts.name_loads[node.value] = self.facts.name_loads.get(node.value, 0) + 1


def _resolve_refs(collector: _Collector) -> None:
    facts = collector.facts
    module = facts.module
    local_imports = collector.local_imports
    for node, dotted, call in collector.raw_refs:
        head, sep, rest = dotted.partition(".")
        qualified: str | None
        if head in local_imports:
            qualified = f"{local_imports[head]}{sep}{rest}"
        elif head in facts.locals:
            continue
        else:
            qualified = module.resolve_global(dotted)
        if qualified is not None:
            facts.refs.append(Reference(node, qualified, call))
            facts.qualified_by_id[id(node)] = qualified


def collect_facts(
    node: cst.FunctionDef,
    qualname: str,
    module: ModuleInfo,
    is_orchestrator: bool,
    ctx_param: str | None,
    api: str = "durableflow",
) -> FunctionFacts:
    """Walk ``node``'s body once and return its facts with references resolved."""
    facts = FunctionFacts(node, qualname, module, is_orchestrator, ctx_param, api)
    collector = _Collector(facts)
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        collector._bind(param.name)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            collector._bind(star.name)
    collector.walk(node.body)
    if node.asynchronous is not None:
        facts.awaits.insert(0, node)
    # Import-bound names are locals for shadowing purposes but resolve through the import.
    facts.locals -= set(collector.local_imports)
    _resolve_refs(collector)
    return facts
