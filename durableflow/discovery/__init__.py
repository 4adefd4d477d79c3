"""Find orchestrator functions in a LibCST module.

This is the one discovery implementation shared by the linter and the compiler. It recognises:

* durableflow: ``@<any App>.orchestrator`` / ``@<any App>.orchestrator(name="...")``, and
  generator functions whose first parameter is annotated with durableflow's
  ``OrchestrationContext`` under any alias ("annotation" style);
* Azure Durable Functions for Python: ``@<app>.orchestration_trigger(...)``,
  ``df.Orchestrator.create(fn)`` and a ``DurableOrchestrationContext`` parameter;
* durabletask-python: an ``OrchestrationContext`` parameter imported from ``durabletask`` and
  ``<worker>.add_orchestrator(fn)`` / ``add_named_orchestrator("name", fn)``;
* dapr workflows: ``@<runtime>.workflow`` / ``@<runtime>.workflow(name="...")``,
  ``<runtime>.register_workflow(fn)`` and a ``DaprWorkflowContext`` parameter;
* configured decorator names and an explicit list of functions ("config" style).

Functions defined inside functions are searched too (``outer.inner``): tests and factories define
orchestrators so. Activities (``@<app>.activity``, ``@<app>.activity_trigger``,
``@<app>.entity_trigger``) are never orchestrators, and neither is a function the module calls
directly (a generator helper that takes the context is a helper, however it is annotated).
Only the module's own imports are consulted, so the cost is one shallow walk of the module plus
one small visit for registrations; no scope metadata is computed. Returned nodes are the very
``FunctionDef`` objects of the module passed in, so callers can look up metadata for them with
``MetadataWrapper(module, unsafe_skip_copy=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from durableflow.discovery.imports import ImportTable, add_import, dotted_name, import_table
from durableflow.discovery.registrations import (
    API_AZURE,
    API_DAPR,
    API_DURABLEFLOW,
    API_DURABLETASK,
    REGISTRATION_MARKERS,
    Registration,
    foreign_targets,
    module_api,
    registrations,
)
from durableflow.discovery.tree import is_generator, iter_function_defs, iter_nodes

__all__ = [
    "API_AZURE",
    "API_DAPR",
    "API_DURABLEFLOW",
    "API_DURABLETASK",
    "DiscoveryConfig",
    "ImportTable",
    "OrchestratorDef",
    "Registration",
    "add_import",
    "dotted_name",
    "find_orchestrators",
    "foreign_orchestrators",
    "import_table",
    "is_generator",
    "iter_function_defs",
    "module_api",
]

_ACTIVITY_DECORATORS = frozenset({"activity", "activity_trigger", "entity_trigger"})
_AZURE_PARAM = "DurableOrchestrationContext"
_DAPR_PARAM = "DaprWorkflowContext"
_CONTEXT_CLASS = "OrchestrationContext"
_STYLE_API = {
    "durableflow": API_DURABLEFLOW,
    "annotation": API_DURABLEFLOW,
    "azure": API_AZURE,
    "durabletask": API_DURABLETASK,
    "dapr": API_DAPR,
}


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """Extra ways to recognise orchestrators.

    Attributes:
        decorators: Decorator names. A bare name (``workflow``) matches ``@workflow``,
            ``@x.workflow`` and their called forms; a dotted name matches the decorator's
            resolved qualified name (``myapp.registry.workflow``) or its text as written.
        explicit: Functions that are orchestrators whatever they look like: ``func``,
            ``Class.method``, ``outer.inner`` (also spelt ``outer.<locals>.inner``), or
            ``package.module:func`` / ``package.module.func`` (matched only when
            ``find_orchestrators`` is told the module's name).
    """

    decorators: tuple[str, ...] = ()
    explicit: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrchestratorDef:
    """One discovered orchestrator.

    Attributes:
        name: Registered name: an explicit ``name="..."`` in the registering decorator or call,
            else the function name.
        function_name: The function's name in its module: ``Class.method`` for methods,
            ``outer.inner`` for a function defined inside another.
        node: The ``FunctionDef`` node of the module that was searched (identity preserved).
        style: ``"durableflow"``, ``"azure"``, ``"durabletask"``, ``"dapr"``, ``"annotation"``
            or ``"config"``.
        ctx_param: Name of the orchestration-context parameter, if the function has one.
        api: Whose context the function receives, which decides what the linter suggests:
            ``"durableflow"``, ``"azure"``, ``"durabletask"`` or ``"dapr"``.
    """

    name: str
    function_name: str
    node: cst.FunctionDef
    style: str
    ctx_param: str | None
    api: str = API_DURABLEFLOW


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
    if last == _DAPR_PARAM:
        return "dapr"
    if last == _CONTEXT_CLASS and root == "durabletask":
        return "durabletask"
    if last == _CONTEXT_CLASS and root == "durableflow":
        return "annotation"
    return None


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
    return any(entry.replace(".<locals>.", ".") in accepted for entry in explicit)


def _called_names(module: cst.Module) -> set[str]:
    """Simple names the module calls (``helper(ctx, x)``): such functions are helpers."""
    return {
        node.func.value
        for node in iter_nodes(module, enter_scopes=True)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
    }


@dataclass(slots=True)
class _ModuleFacts:
    imports: ImportTable
    registered: dict[str, tuple[str, str | None]]
    called: set[str] | None
    module: cst.Module

    def is_called(self, name: str) -> bool:
        if self.called is None:
            self.called = _called_names(self.module)
        return name in self.called


def _decorated_style(
    node: cst.FunctionDef, imports: ImportTable, config: DiscoveryConfig
) -> tuple[str | None, str | None, str | None, bool]:
    """``(style, registered name, context name, is_activity)`` from the decorators."""
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
            return None, None, None, True
        if last == "orchestrator" and "." in text:
            style, name = "durableflow", _kwarg_string(call, "name")
        elif last == "workflow" and "." in text:
            style, name = "dapr", _kwarg_string(call, "name")
        elif last == "orchestration_trigger":
            style, ctx_name = "azure", _kwarg_string(call, "context_name")
        elif last == "function_name":
            name = name or _kwarg_string(call, "name")
        elif style is None and _matches_config_decorator(
            text, imports.resolve(text), config.decorators
        ):
            style, name = "config", _kwarg_string(call, "name")
    return style, name, ctx_name, False


def _classify(
    qualname: str,
    node: cst.FunctionDef,
    is_method: bool,
    facts: _ModuleFacts,
    config: DiscoveryConfig,
    module_name: str | None,
) -> OrchestratorDef | None:
    style, name, ctx_name, is_activity = _decorated_style(node, facts.imports, config)
    if is_activity:
        return None
    param = _context_param(node, is_method)
    simple = node.name.value
    if style is None and simple in facts.registered and not is_method:
        style, registered_name = facts.registered[simple]
        name = name or registered_name
    if style is None:
        annotated = _annotation_style(_annotation_name(param, facts.imports))
        # Annotation alone is weak evidence: the runtime's own internals and helpers take
        # contexts too. An orchestrator is a generator that nobody in its module calls
        # (Azure's classic model registers it from function.json, so no call is seen there).
        if annotated is not None and (
            annotated == "azure" or (is_generator(node) and not facts.is_called(simple))
        ):
            style = annotated
    if style is None and _explicitly_listed(qualname, module_name, config.explicit):
        style = "config"
    if style is None:
        return None
    if ctx_name is None and param is not None:
        ctx_name = param.name.value
    api = _STYLE_API.get(style) or module_api(facts.imports)
    return OrchestratorDef(
        name=name or simple,
        function_name=qualname,
        node=node,
        style=style,
        ctx_param=ctx_name,
        api=api,
    )


def _local_registrations(
    module: cst.Module, source: str | None
) -> tuple[list[Registration], dict[str, tuple[str, str | None]]]:
    if source is not None and not any(marker in source for marker in REGISTRATION_MARKERS):
        return [], {}
    found = registrations(module)
    local: dict[str, tuple[str, str | None]] = {}
    for registration in found:
        if "." not in registration.target:
            local.setdefault(registration.target, (registration.style, registration.name))
    return found, local


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
        source: The module's text, if at hand: when it mentions no registration call, the walk
            that looks for registrations is skipped.
    """
    config = config or DiscoveryConfig()
    imports = imports or import_table(module, module_name)
    _, registered = _local_registrations(module, source)
    facts = _ModuleFacts(imports, registered, None, module)
    found: list[OrchestratorDef] = []
    for qualname, node, is_method in iter_function_defs(module):
        definition = _classify(qualname, node, is_method, facts, config, module_name)
        if definition is not None:
            found.append(definition)
    return found


def foreign_orchestrators(
    module: cst.Module,
    module_name: str | None = None,
    imports: ImportTable | None = None,
    source: str | None = None,
) -> list[tuple[str, Registration]]:
    """Functions this module registers as orchestrators but imports from another module.

    Returns ``(qualified name, registration)`` pairs, e.g. ``("app.flows.checkout", ...)`` for
    ``from app.flows import checkout`` and ``worker.add_orchestrator(checkout)``.
    """
    imports = imports or import_table(module, module_name)
    found, _ = _local_registrations(module, source)
    if not found:
        return []
    defined = {qualname.rsplit(".", 1)[-1] for qualname, _, _ in iter_function_defs(module)}
    return foreign_targets(found, defined, imports)
