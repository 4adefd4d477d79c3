"""Module-level facts: imports, definitions and module-level variables, from one shallow walk."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from durableflow.discovery import ImportTable, dotted_name, import_table, iter_function_defs
from durableflow.linter.walk import FastVisitor

__all__ = ["RULE_BUILTINS", "ModuleInfo", "build_module_info"]

_MUTABLE_FACTORIES = frozenset(
    {
        "builtins.list",
        "builtins.dict",
        "builtins.set",
        "builtins.bytearray",
        "collections.defaultdict",
        "collections.deque",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.ChainMap",
    }
)
_LOGGER_FACTORIES = frozenset(
    {"logging.getLogger", "structlog.get_logger", "structlog.getLogger", "logging.root"}
)
_ACTIVITY_DECORATORS = frozenset({"activity", "activity_trigger", "entity_trigger"})


@dataclass(slots=True)
class ModuleInfo:
    """What rules need to know about the module around a function.

    Attributes:
        module_name: Dotted module name.
        imports: Module-level imports.
        functions: In-module qualified name (``f``, ``C.m``) -> (node, is_method).
        classes: Names of module-level classes.
        assigned: Module-level variable -> number of module-level assignments.
        mutable: Module-level variables bound to a mutable container.
        loggers: Module-level variables bound to a logger.
        global_writes: Variables some function of the module declares ``global``.
        activities: In-module names of functions decorated as activities.
        star_imports: ``from m import *`` statements at module level.
    """

    module_name: str
    imports: ImportTable
    functions: dict[str, tuple[cst.FunctionDef, bool]] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    assigned: dict[str, int] = field(default_factory=dict)
    mutable: set[str] = field(default_factory=set)
    loggers: set[str] = field(default_factory=set)
    global_writes: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    star_imports: list[cst.ImportFrom] = field(default_factory=list)

    def resolve_global(self, dotted: str) -> str | None:
        """Qualified name of a dotted expression whose head is not bound in the function."""
        head = dotted.partition(".")[0]
        if head in self.imports.aliases:
            return self.imports.resolve(dotted)
        if head in self.functions or head in self.classes or head in self.assigned:
            return f"{self.module_name}.{dotted}"
        if head in RULE_BUILTINS:
            return f"builtins.{dotted}"
        return None


# The builtins rules care about; no other builtin name is resolved.
RULE_BUILTINS = frozenset(
    {
        "open",
        "input",
        "print",
        "hash",
        "id",
        "eval",
        "exec",
        "compile",
        "__import__",
        "list",
        "dict",
        "set",
        "frozenset",
        "tuple",
        "iter",
        "next",
        "enumerate",
        "sorted",
        "BaseException",
        "GeneratorExit",
        "Exception",
        "bytearray",
    }
)


def _module_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, cst.If | cst.Else):
            yield from _module_statements(stmt.body.body)
            if isinstance(stmt, cst.If) and stmt.orelse is not None:
                yield from _module_statements([stmt.orelse])
        elif isinstance(stmt, cst.Try):
            yield from _module_statements(stmt.body.body)
            for handler in stmt.handlers:
                yield from _module_statements(handler.body.body)
        else:
            yield stmt


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            yield from _target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


def _is_mutable_value(value: cst.BaseExpression, info: ModuleInfo) -> bool:
    if isinstance(value, cst.List | cst.Dict | cst.Set | cst.ListComp | cst.DictComp | cst.SetComp):
        return True
    if isinstance(value, cst.Call):
        name = dotted_name(value.func)
        return name is not None and info.resolve_global(name) in _MUTABLE_FACTORIES
    return False


def _is_logger_value(value: cst.BaseExpression, info: ModuleInfo) -> bool:
    target = value.func if isinstance(value, cst.Call) else value
    name = dotted_name(target)
    return name is not None and info.imports.resolve(name) in _LOGGER_FACTORIES


class _GlobalFinder(FastVisitor):
    """Names that a function declares ``global`` and also binds: writes after import.

    ``global X`` in a function that only reads ``X`` (people write it out of habit) leaves ``X``
    a constant assigned once at import.
    """

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.declared: set[str] = set()
        self.bound: set[str] = set()

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.bound.update(_target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.bound.update(_target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.bound.update(_target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.bound.update(_target_names(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        if isinstance(node.name, cst.Name | cst.Tuple | cst.List):
            self.bound.update(_target_names(node.name))

    def visit_Del(self, node: cst.Del) -> None:
        self.bound.update(_target_names(node.target))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.bound.update(_target_names(node.target))

    def function_done(self) -> None:
        """Close one function: keep its declared names that it also binds."""
        self.names |= self.declared & self.bound
        self.declared, self.bound = set(), set()


def _record_assignment(
    info: ModuleInfo, names: list[str], value: cst.BaseExpression | None
) -> None:
    for name in names:
        if value is not None and _is_mutable_value(value, info):
            info.mutable.add(name)
        if value is not None and _is_logger_value(value, info):
            info.loggers.add(name)


def _merge(total: dict[str, int], more: dict[str, int], factor: int = 1) -> None:
    for name, count in more.items():
        total[name] = total.get(name, 0) + count * factor


def _branches(*bodies: dict[str, int]) -> dict[str, int]:
    """Mutually exclusive branches: a name assigned in two of them is still assigned once."""
    merged: dict[str, int] = {}
    for body in bodies:
        for name, count in body.items():
            merged[name] = max(merged.get(name, 0), count)
    return merged


def _small_counts(stmt: cst.BaseSmallStatement) -> dict[str, int]:
    names: list[str] = []
    if isinstance(stmt, cst.Assign):
        names = [n for t in stmt.targets for n in _target_names(t.target)]
    elif isinstance(stmt, cst.AnnAssign) and stmt.value is not None:
        names = list(_target_names(stmt.target))
    elif isinstance(stmt, cst.AugAssign):
        names = list(_target_names(stmt.target)) * 2  # rebinding an existing name
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def _assignment_counts(body: Sequence[cst.CSTNode]) -> dict[str, int]:
    """How many times each module-level name is bound, counting ``if``/``else`` and
    ``try``/``except`` alternatives once (a constant defined per platform is not reassigned) and
    loop bodies twice (they run repeatedly)."""
    total: dict[str, int] = {}
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _merge(total, _small_counts(small))
        elif isinstance(stmt, cst.If):
            orelse = stmt.orelse
            other = {}
            if isinstance(orelse, cst.If):
                other = _assignment_counts([orelse])
            elif isinstance(orelse, cst.Else):
                other = _assignment_counts(orelse.body.body)
            _merge(total, _branches(_assignment_counts(stmt.body.body), other))
        elif isinstance(stmt, cst.Try):
            main = _assignment_counts(stmt.body.body)
            if stmt.orelse is not None:
                _merge(main, _assignment_counts(stmt.orelse.body.body))
            handlers = [_assignment_counts(h.body.body) for h in stmt.handlers]
            _merge(total, _branches(main, *handlers))
            if stmt.finalbody is not None:
                _merge(total, _assignment_counts(stmt.finalbody.body.body))
        elif isinstance(stmt, cst.For | cst.While):
            if isinstance(stmt, cst.For):
                _merge(total, {name: 2 for name in _target_names(stmt.target)})
            _merge(total, _assignment_counts(stmt.body.body), factor=2)
        elif isinstance(stmt, cst.With):
            _merge(total, _assignment_counts(stmt.body.body))
    return total


def build_module_info(
    module: cst.Module, module_name: str, is_package: bool = False, source: str | None = None
) -> ModuleInfo:
    """Collect module-level facts. ``source`` enables a text shortcut for ``global`` scans."""
    info = ModuleInfo(module_name, import_table(module, module_name, is_package))
    for qualname, node, is_method in iter_function_defs(module):
        info.functions[qualname] = (node, is_method)
        for dec in node.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            text = dotted_name(target) or ""
            if text.rsplit(".", 1)[-1] in _ACTIVITY_DECORATORS:
                info.activities.add(qualname)
    for stmt in _module_statements(module.body):
        if isinstance(stmt, cst.ClassDef):
            info.classes.add(stmt.name.value)
        elif isinstance(stmt, cst.Assign):
            names = [n for t in stmt.targets for n in _target_names(t.target)]
            _record_assignment(info, names, stmt.value)
        elif isinstance(stmt, cst.AnnAssign):
            _record_assignment(info, list(_target_names(stmt.target)), stmt.value)
        elif isinstance(stmt, cst.ImportFrom) and isinstance(stmt.names, cst.ImportStar):
            info.star_imports.append(stmt)
    info.assigned = _assignment_counts(module.body)
    if source is None or "global " in source:
        finder = _GlobalFinder()
        for node, _ in info.functions.values():
            finder.walk(node)
            finder.function_done()
        info.global_writes = finder.names
    return info
