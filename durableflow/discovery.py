"""Find orchestrator functions in a LibCST module.

This is the one discovery implementation shared by the linter and the compiler. It recognises:

* durableflow: ``@<any App>.orchestrator`` / ``@<any App>.orchestrator(name="...")``, and
  generator functions whose first parameter is annotated with durableflow's
  ``OrchestrationContext`` under any alias ("annotation" style);
* Azure Durable Functions for Python: ``@<app>.orchestration_trigger(...)``,
  ``df.Orchestrator.create(fn)`` and a ``DurableOrchestrationContext`` parameter;
* durabletask-python: an ``OrchestrationContext`` parameter imported from ``durabletask`` and
  ``<worker>.add_orchestrator(fn)`` / ``add_named_orchestrator("name", fn)``;
* configured decorator names and an explicit list of functions ("config" style).

Activities (``@<app>.activity``, ``@<app>.activity_trigger``, ``@<app>.entity_trigger``) are never
orchestrators. Only the module's own imports are consulted, so the cost is one shallow walk of the
module plus one small visit for ``create``/``add_orchestrator`` registrations; no scope metadata
is computed. Returned nodes are the very ``FunctionDef`` objects of the module passed in, so callers
can look up metadata for them with ``MetadataWrapper(module, unsafe_skip_copy=True)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

__all__ = [
    "DiscoveryConfig",
    "ImportTable",
    "OrchestratorDef",
    "dotted_name",
    "find_orchestrators",
    "import_table",
    "is_generator",
    "iter_function_defs",
]

_ACTIVITY_DECORATORS = frozenset({"activity", "activity_trigger", "entity_trigger"})
_AZURE_PARAM = "DurableOrchestrationContext"
_CONTEXT_CLASS = "OrchestrationContext"


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """Extra ways to recognise orchestrators.

    Attributes:
        decorators: Decorator names. A bare name (``workflow``) matches ``@workflow``,
            ``@x.workflow`` and their called forms; a dotted name matches the decorator's
            resolved qualified name (``myapp.registry.workflow``) or its text as written.
        explicit: Functions that are orchestrators whatever they look like: ``func``,
            ``Class.method``, or ``package.module:func`` / ``package.module.func`` (matched only
            when ``find_orchestrators`` is told the module's name).
    """

    decorators: tuple[str, ...] = ()
    explicit: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrchestratorDef:
    """One discovered orchestrator.

    Attributes:
        name: Registered name: an explicit ``name="..."`` in the registering decorator, else the
            function name.
        function_name: The function's name (``Class.method`` for methods).
        node: The ``FunctionDef`` node of the module that was searched (identity preserved).
        style: ``"durableflow"``, ``"azure"``, ``"durabletask"``, ``"annotation"`` or ``"config"``.
        ctx_param: Name of the orchestration-context parameter, if the function has one.
    """

    name: str
    function_name: str
    node: cst.FunctionDef
    style: str
    ctx_param: str | None


@dataclass(frozen=True, slots=True)
class ImportTable:
    """Names bound by import statements.

    Attributes:
        aliases: Local name -> qualified dotted name (``dt`` -> ``datetime.datetime``).
        star_modules: Modules imported with ``from m import *``.
    """

    aliases: dict[str, str]
    star_modules: tuple[str, ...]

    def resolve(self, dotted: str) -> str | None:
        """Return the qualified name of a dotted expression, or None if its head is not imported."""
        head, sep, rest = dotted.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return None
        return f"{target}{sep}{rest}"


def dotted_name(node: cst.BaseExpression) -> str | None:
    """Return ``a.b.c`` for a ``Name``/``Attribute`` chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _module_text(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    return dotted_name(node) or ""


def _absolute_module(
    level: int, module: cst.BaseExpression | None, module_name: str | None, is_package: bool
) -> str | None:
    name = _module_text(module)
    if level == 0:
        return name
    if module_name is None:
        return None
    parts = module_name.split(".")
    # A package's own __init__ counts as level 1 of itself; a plain module's level 1 is its parent.
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 0:
        return None
    base = ".".join(parts[:keep])
    return f"{base}.{name}".strip(".") if name else base


def add_import(
    stmt: cst.Import | cst.ImportFrom,
    aliases: dict[str, str],
    stars: list[str],
    module_name: str | None = None,
    is_package: bool = False,
) -> None:
    """Record the names one import statement binds into ``aliases`` (and star imports)."""
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = _module_text(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                aliases[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                aliases[head] = head
        return
    base = _absolute_module(len(stmt.relative), stmt.module, module_name, is_package)
    if base is None:
        return
    if isinstance(stmt.names, cst.ImportStar):
        stars.append(base)
        return
    for alias in stmt.names:
        name = _module_text(alias.name)
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        aliases[local] = f"{base}.{name}" if base else name


def _walk_module_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Yield statements at module level, descending into if/try/with blocks but not defs."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, cst.If):
            yield from _walk_module_statements(stmt.body.body)
            if stmt.orelse is not None:
                yield from _walk_module_statements([stmt.orelse])
        elif isinstance(stmt, cst.Else):
            yield from _walk_module_statements(stmt.body.body)
        elif isinstance(stmt, cst.Try | cst.TryStar):
            yield from _walk_module_statements(stmt.body.body)
            for handler in stmt.handlers:
                yield from _walk_module_statements(handler.body.body)
            if stmt.orelse is not None:
                yield from _walk_module_statements(stmt.orelse.body.body)
            if stmt.finalbody is not None:
                yield from _walk_module_statements(stmt.finalbody.body.body)
        elif isinstance(stmt, cst.With):
            yield from _walk_module_statements(stmt.body.body)


def import_table(
    module: cst.Module, module_name: str | None = None, is_package: bool = False
) -> ImportTable:
    """Collect the module-level imports (including those under ``if``/``try``/``with``)."""
    aliases: dict[str, str] = {}
    stars: list[str] = []
    for stmt in _walk_module_statements(module.body):
        if isinstance(stmt, cst.Import | cst.ImportFrom):
            add_import(stmt, aliases, stars, module_name, is_package)
    return ImportTable(aliases, tuple(stars))


def iter_function_defs(module: cst.Module) -> Iterator[tuple[str, cst.FunctionDef, bool]]:
    """Yield ``(qualified_in_module_name, node, is_method)`` for module functions and methods."""

    def walk(
        body: Sequence[cst.CSTNode], prefix: str, in_class: bool
    ) -> Iterator[tuple[str, cst.FunctionDef, bool]]:
        for stmt in _walk_module_statements(body):
            if isinstance(stmt, cst.FunctionDef):
                yield f"{prefix}{stmt.name.value}", stmt, in_class
            elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
                yield from walk(stmt.body.body, f"{prefix}{stmt.name.value}.", True)

    yield from walk(module.body, "", False)


_FIELDS: dict[type, tuple[str, ...]] = {}
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


def _iter_nodes(node: cst.CSTNode, *, enter_scopes: bool) -> Iterator[cst.CSTNode]:
    """Yield ``node``'s descendants by reading dataclass fields (``CSTNode.visit`` rebuilds the
    tree as it goes and costs as much as parsing). Whitespace fields are skipped."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        yield current
        if not enter_scopes and current is not node and isinstance(current, _SCOPES):
            continue
        fields = _FIELDS.get(type(current))
        if fields is None:
            fields = tuple(
                f.name
                for f in dataclasses.fields(current)
                if not f.name.startswith(("whitespace", "leading_lines", "lpar", "rpar", "comma"))
            )
            _FIELDS[type(current)] = fields
        for name in fields:
            value = getattr(current, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(v for v in value if isinstance(v, cst.CSTNode))


def is_generator(node: cst.FunctionDef) -> bool:
    """True if the function's own body (not nested defs) contains ``yield``."""
    return any(isinstance(n, cst.Yield) for n in _iter_nodes(node.body, enter_scopes=False))


def _decorator_parts(dec: cst.Decorator) -> tuple[cst.BaseExpression, cst.Call | None]:
    expr = dec.decorator
    if isinstance(expr, cst.Call):
        return expr.func, expr
    return expr, None


def _kwarg_string(call: cst.Call | None, keyword: str) -> str | None:
    if call is None:
        return None
    for arg in call.args:
        if (
            arg.keyword is not None
            and arg.keyword.value == keyword
            and isinstance(arg.value, cst.SimpleString)
        ):
            value = arg.value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def _context_param(node: cst.FunctionDef, is_method: bool) -> cst.Param | None:
    params = list(node.params.posonly_params) + list(node.params.params)
    if is_method and params:
        params = params[1:]
    return params[0] if params else None


def _annotation_name(param: cst.Param | None, imports: ImportTable) -> str | None:
    if param is None or param.annotation is None:
        return None
    expr = param.annotation.annotation
    text: str | None
    if isinstance(expr, cst.SimpleString):
        raw = expr.evaluated_value
        text = raw.strip() if isinstance(raw, str) else None
    else:
        text = dotted_name(expr)
    if not text:
        return None
    return imports.resolve(text) or text


def _annotation_style(qualified: str | None) -> str | None:
    if qualified is None:
        return None
    last = qualified.rsplit(".", 1)[-1]
    root = qualified.split(".", 1)[0]
    if last == _AZURE_PARAM:
        return "azure"
    if last == _CONTEXT_CLASS and root == "durabletask":
        return "durabletask"
    if last == _CONTEXT_CLASS and root == "durableflow":
        return "annotation"
    return None


def _registrations(module: cst.Module) -> dict[str, tuple[str, str | None]]:
    """Functions registered by ``X.add_orchestrator(fn)``, ``X.add_named_orchestrator("name",
    fn)`` or ``<...>Orchestrator.create(fn)``."""
    registered: dict[str, tuple[str, str | None]] = {}
    for node in _iter_nodes(module, enter_scopes=True):
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            continue
        if node.func.attr.value == "add_named_orchestrator" and len(node.args) >= 2:
            label, target = node.args[0].value, node.args[1].value
            if isinstance(target, cst.Name) and isinstance(label, cst.SimpleString):
                text = label.evaluated_value
                named = text if isinstance(text, str) else None
                registered.setdefault(target.value, ("durabletask", named))
            continue
        if not node.args or not isinstance(node.args[0].value, cst.Name):
            continue
        name = node.args[0].value.value
        attr = node.func.attr.value
        if attr == "add_orchestrator":
            registered.setdefault(name, ("durabletask", None))
        elif attr == "create":
            owner = dotted_name(node.func.value) or ""
            if owner.rsplit(".", 1)[-1] == "Orchestrator":
                registered.setdefault(name, ("azure", None))
    return registered


def _matches_config_decorator(text: str, qualified: str | None, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if "." in pattern:
            if text == pattern or qualified == pattern:
                return True
        elif text.rsplit(".", 1)[-1] == pattern:
            return True
    return False


def _explicitly_listed(
    function_name: str, module_name: str | None, explicit: tuple[str, ...]
) -> bool:
    accepted = {function_name}
    if module_name is not None:
        accepted |= {f"{module_name}:{function_name}", f"{module_name}.{function_name}"}
    return any(entry in accepted for entry in explicit)


def _classify(
    qualname: str,
    node: cst.FunctionDef,
    is_method: bool,
    imports: ImportTable,
    registered: dict[str, tuple[str, str | None]],
    config: DiscoveryConfig,
    module_name: str | None,
) -> OrchestratorDef | None:
    style: str | None = None
    name: str | None = None
    ctx_name: str | None = None
    for dec in node.decorators:
        target, call = _decorator_parts(dec)
        text = dotted_name(target)
        if text is None:
            continue
        last = text.rsplit(".", 1)[-1]
        if last in _ACTIVITY_DECORATORS:
            return None
        if last == "orchestrator" and "." in text:
            style, name = "durableflow", _kwarg_string(call, "name")
        elif last == "orchestration_trigger":
            style, ctx_name = "azure", _kwarg_string(call, "context_name")
        elif last == "function_name":
            name = name or _kwarg_string(call, "name")
        elif style is None and _matches_config_decorator(
            text, imports.resolve(text), config.decorators
        ):
            style, name = "config", _kwarg_string(call, "name")
    param = _context_param(node, is_method)
    if style is None and node.name.value in registered and not is_method:
        style, name = registered[node.name.value]
    if style is None:
        annotated = _annotation_style(_annotation_name(param, imports))
        # Annotation alone is weak evidence: the runtime's own internals take contexts too.
        # An orchestrator is a generator (or a mistaken async def, which DUR007 reports).
        if annotated is not None and (
            annotated == "azure" or node.asynchronous is not None or is_generator(node)
        ):
            style = annotated
    if style is None and _explicitly_listed(qualname, module_name, config.explicit):
        style = "config"
    if style is None:
        return None
    if ctx_name is None and param is not None:
        ctx_name = param.name.value
    return OrchestratorDef(
        name=name or node.name.value,
        function_name=qualname,
        node=node,
        style=style,
        ctx_param=ctx_name,
    )


def find_orchestrators(
    module: cst.Module,
    config: DiscoveryConfig | None = None,
    module_name: str | None = None,
    imports: ImportTable | None = None,
    source: str | None = None,
) -> list[OrchestratorDef]:
    """Return the orchestrators defined in ``module``, in source order.

    Args:
        module: A parsed module; returned nodes belong to it.
        config: Extra decorator names and explicit functions.
        module_name: Dotted module name, used for relative imports and ``module:func`` entries.
        imports: A precomputed ``import_table(module, module_name)``, to avoid recomputing it.
        source: The module's text, if at hand: when it mentions neither ``add_orchestrator`` nor
            ``Orchestrator.create``, the walk that looks for those registrations is skipped.
    """
    config = config or DiscoveryConfig()
    imports = imports or import_table(module, module_name)
    registered: dict[str, tuple[str, str | None]] = {}
    if source is None or any(
        marker in source
        for marker in ("add_orchestrator", "add_named_orchestrator", "Orchestrator.create")
    ):
        registered = _registrations(module)
    found: list[OrchestratorDef] = []
    for qualname, node, is_method in iter_function_defs(module):
        definition = _classify(qualname, node, is_method, imports, registered, config, module_name)
        if definition is not None:
            found.append(definition)
    return found
