"""Analyse one module: find orchestrators, follow in-module helpers, run the rules.

This is the unit of work that runs in parallel and is cached. It knows nothing about other
files: calls that leave the module are returned as qualified names, and the engine asks for the
modules that define them with those functions as extra roots.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import libcst as cst

from durableflow.discovery import (
    DiscoveryConfig,
    find_orchestrators,
    foreign_orchestrators,
    iter_function_defs,
    module_api,
)
from durableflow.linter.config import LintConfig
from durableflow.linter.dialects import Dialect
from durableflow.linter.facts import FunctionFacts, collect_facts
from durableflow.linter.ftypes import FixInfo, FunctionSummary, ModuleResult, RawFinding, Span
from durableflow.linter.modinfo import ModuleInfo, build_module_info
from durableflow.linter.positions import positions_of
from durableflow.linter.rules import ALL_RULES, Edit, Hit, Rule, RuleContext
from durableflow.linter.suppress import parse_suppressions

__all__ = ["Analysis", "analyze_source", "syntax_error_finding"]

_ONLY_AST = ast.PyCF_ONLY_AST


@dataclass(slots=True)
class Analysis:
    """A module's result plus, when asked for, the rewrites its findings offer.

    Attributes:
        result: The serialisable result.
        edits: ``(code, edit)`` for each finding that has a rewrite (only with ``want_edits``).
        module: The parsed module the edits refer to.
    """

    result: ModuleResult
    edits: list[tuple[str, Edit]] = field(default_factory=list)
    module: cst.Module | None = None


def syntax_error_finding(exc: Exception, source: str | None = None) -> RawFinding:
    """The DUR000 finding for a module that failed to parse.

    The position comes from CPython's own parser when it also rejects the source (its line and
    column are the ones users know from tracebacks), else from LibCST's error.
    """
    line, column, detail = 1, 1, f"{type(exc).__name__}: {exc}"
    if isinstance(exc, cst.ParserSyntaxError):
        line, column, detail = exc.raw_line, exc.raw_column + 1, exc.message
    if source is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(source, "<module>", "exec", dont_inherit=True, flags=_ONLY_AST)
        except SyntaxError as error:
            line, column = error.lineno or line, error.offset or column
            detail = error.msg
        except (ValueError, RecursionError, MemoryError):
            pass
    message = f"file does not parse ({detail.strip()}); nothing in it was checked"
    return RawFinding("DUR000", message, Span(line, column, line, column))


def _rules(config: LintConfig) -> list[Rule]:
    return [rule() for rule in ALL_RULES if rule.CODE != "DUR000" and config.enabled(rule.CODE)]


def _called_functions(facts: FunctionFacts, class_prefix: str | None) -> set[str]:
    called: set[str] = set()
    for ref in facts.refs:
        if ref.call is not None and ref.call.func is ref.node:
            called.add(ref.qualified)
    # An object built here and then used (``client = Client(url)``, ``client.get(path)``): its
    # constructor and methods run in the orchestrator, so follow them as helpers.
    for receiver, method, _ in facts.mutations:
        built = facts.assigned_calls.get(receiver)
        if built is None or receiver not in facts.locals:
            continue
        factory = facts.qualified(built.func)
        if factory is not None and not factory.startswith("builtins."):
            called.add(f"{factory}.{method}")
            called.add(f"{factory}.__init__")
    if class_prefix is not None:
        # self.helper() inside a method: resolve against the method's own class.
        for call in facts.calls:
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value in {"self", "cls"}
            ):
                called.add(f"{class_prefix}{func.attr.value}")
    return called


def _statements_holding(
    module: cst.Module, functions: list[cst.FunctionDef], module_hits: list[tuple[str, Hit]]
) -> list[int]:
    """Indexes of the top-level statements that contain the analysed functions or module hits."""
    wanted = {id(node) for node in functions} | {id(hit.node) for _, hit in module_hits}
    found: list[int] = []
    for index, stmt in enumerate(module.body):
        if id(stmt) in wanted:
            found.append(index)
        elif isinstance(stmt, cst.SimpleStatementLine):
            if any(id(small) in wanted for small in stmt.body):
                found.append(index)
        elif not isinstance(stmt, cst.FunctionDef):
            inner = cst.Module(body=[stmt])
            if any(id(node) in wanted for _, node, _ in iter_function_defs(inner)):
                found.append(index)
    return found


@dataclass(slots=True)
class _Checked:
    """One checked function: its hits and the functions it calls (qualified)."""

    qualname: str
    node: cst.FunctionDef
    hits: list[tuple[str, Hit]]
    callees: tuple[str, ...]


def _check_functions(
    info: ModuleInfo,
    work: list[tuple[str, bool, str | None, str]],
    config: LintConfig,
    foreign_activities: frozenset[str],
) -> list[_Checked]:
    """Check the functions in ``work`` (local name, is orchestrator, context parameter, API) and
    the module-local helpers they reach, each once, breadth first."""
    helper_api = module_api(info.imports)
    prefix = info.module_name + "."
    context = RuleContext(config.banned_table(), foreign_activities)
    rules = _rules(config)
    seen: set[str] = set()
    checked: list[_Checked] = []
    while work:
        local, is_orch, ctx_param, api = work.pop(0)
        if local in seen:
            continue
        seen.add(local)
        node, is_method = info.functions[local]
        facts = collect_facts(node, prefix + local, info, is_orch, ctx_param, api)
        dialect = Dialect.of(api, ctx_param if is_orch else None, info.imports)
        hits = [
            (rule.CODE, replace(hit, message=dialect.speak(hit.message)))
            for rule in rules
            for hit in rule.check(facts, context)
        ]
        class_prefix = prefix + local.rpartition(".")[0] + "." if is_method else None
        callees: list[str] = []
        for qualified in sorted(_called_functions(facts, class_prefix)):
            if config.is_allowed_helper(qualified) or qualified in foreign_activities:
                continue
            inner = qualified.removeprefix(prefix)
            if qualified.startswith(prefix) and inner in info.functions:
                if inner not in info.activities:  # DUR016 reports direct activity calls
                    work.append((inner, False, None, helper_api))
                    callees.append(qualified)
            elif not qualified.startswith("builtins."):
                callees.append(qualified)
        checked.append(_Checked(prefix + local, node, hits, tuple(callees)))
    return checked


def analyze_source(
    source: str,
    path: str,
    module_name: str,
    config: LintConfig,
    *,
    is_package: bool = False,
    roots: Iterable[str] = (),
    foreign_activities: Iterable[str] = (),
    want_edits: bool = False,
    orchestrator_roots: Iterable[tuple[str, str]] = (),
) -> Analysis:
    """Analyse one module.

    Args:
        source: The module's text.
        path: Its path, stored in the result.
        module_name: Its dotted module name.
        config: Effective configuration.
        is_package: Whether it is a package's ``__init__``.
        roots: Qualified names of functions in this module that must be analysed as helpers
            (an orchestrator elsewhere calls them); activities among them are not.
        foreign_activities: Qualified names of activities other modules define (DUR016).
        want_edits: Also return the rewrites (for ``--fix``).
        orchestrator_roots: ``(local name, API)`` of functions in this module that another
            module registers as orchestrators (with that registration's SDK).
    """
    try:
        module = cst.parse_module(source)
    except Exception as exc:
        finding = syntax_error_finding(exc, source)
        found = (finding,) if config.enabled("DUR000") else ()
        return Analysis(ModuleResult(path, module_name, (), (), found))
    info = build_module_info(module, module_name, is_package, source)
    discovery = config.discovery()
    registered_api = dict(orchestrator_roots)
    if registered_api:
        explicit = discovery.explicit + tuple(sorted(registered_api))
        discovery = DiscoveryConfig(discovery.decorators, explicit)
    orchestrators = [
        replace(d, api=registered_api[d.function_name])
        if d.style == "config" and d.function_name in registered_api
        else d
        for d in find_orchestrators(module, discovery, module_name, info.imports, source)
    ]
    foreign = foreign_orchestrators(module, module_name, info.imports, source)
    registers = tuple(sorted({(name, registration.style) for name, registration in foreign}))
    prefix = module_name + "."
    rules = _rules(config)

    work: list[tuple[str, bool, str | None, str]] = [
        (d.function_name, True, d.ctx_param, d.api) for d in orchestrators
    ]
    helper_api = module_api(info.imports)
    for root in roots:
        local = root.removeprefix(prefix)
        if root.startswith(prefix) and local in info.functions and local not in info.activities:
            work.append((local, False, None, helper_api))
    checked = _check_functions(info, work, config, frozenset(foreign_activities))
    hits = [(c.qualname, code, hit) for c in checked for code, hit in c.hits]

    module_hits: list[tuple[str, Hit]] = []
    if orchestrators:
        module_hits = [(rule.CODE, hit) for rule in rules for hit in rule.check_module(info)]
    nodes = [hit.node for _, _, hit in hits] + [hit.node for _, hit in module_hits]
    with_hits = [c.node for c in checked if c.hits]
    statements = _statements_holding(module, with_hits, module_hits) if nodes else []
    spans = positions_of(module, nodes, source, statements)

    def raw(code: str, hit: Hit) -> RawFinding:
        fix = None
        if hit.edit is not None:
            text = module.code_for_node(hit.edit.replacement).strip()
            fix = FixInfo(text, hit.edit.safe)
        return RawFinding(code, hit.message, spans[id(hit.node)], fix)

    functions = tuple(
        FunctionSummary(c.qualname, tuple(raw(code, hit) for code, hit in c.hits), c.callees)
        for c in checked
    )
    result = ModuleResult(
        path=path,
        module_name=module_name,
        orchestrators=tuple(prefix + d.function_name for d in orchestrators),
        functions=functions,
        module_findings=tuple(raw(code, hit) for code, hit in module_hits),
        suppressions=parse_suppressions(source),
        defined=tuple(prefix + name for name in info.functions),
        reexports={prefix + name: target for name, target in info.imports.aliases.items()},
        activities=tuple(sorted(prefix + name for name in info.activities)),
        registers=registers,
    )
    analysis = Analysis(result, module=module)
    if want_edits:
        analysis.edits = [(code, hit.edit) for _, code, hit in hits if hit.edit is not None]
    return analysis


def module_info_for(source: str, module_name: str) -> ModuleInfo:
    """Module facts for ``source`` (used by tests and tools)."""
    return build_module_info(cst.parse_module(source), module_name, source=source)
