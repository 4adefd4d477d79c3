"""Orchestrators registered by a call, and which SDK a module writes against.

Registrations: ``<worker>.add_orchestrator(fn)`` and ``add_named_orchestrator("name", fn)``
(durabletask), ``<runtime>.register_workflow(fn, name=...)`` (dapr) and
``df.Orchestrator.create(fn)`` (Azure Durable Functions). The registered function may be defined
in the module (at any depth) or imported from another one (``worker.add_orchestrator(flows.fn)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst

from durableflow.discovery.imports import ImportTable, dotted_name
from durableflow.discovery.tree import iter_nodes

__all__ = [
    "API_AZURE",
    "API_DAPR",
    "API_DURABLEFLOW",
    "API_DURABLETASK",
    "REGISTRATION_MARKERS",
    "Registration",
    "module_api",
    "registrations",
]

API_DURABLEFLOW = "durableflow"
API_AZURE = "azure"
API_DURABLETASK = "durabletask"
API_DAPR = "dapr"

# Text that must appear in a module for ``registrations`` to find anything in it.
REGISTRATION_MARKERS = (
    "add_orchestrator",
    "add_named_orchestrator",
    "Orchestrator.create",
    "register_workflow",
)

_API_ROOTS = (
    ("dapr.ext.workflow", API_DAPR),
    ("azure.durable_functions", API_AZURE),
    ("durabletask", API_DURABLETASK),
    ("durableflow", API_DURABLEFLOW),
)


@dataclass(frozen=True, slots=True)
class Registration:
    """One function registered as an orchestrator by a call.

    Attributes:
        target: The argument as written (``fn`` or ``flows.fn``).
        style: ``"durabletask"``, ``"dapr"`` or ``"azure"``.
        name: The registered name when the call gives one.
    """

    target: str
    style: str
    name: str | None


def module_api(imports: ImportTable) -> str:
    """Which SDK's context a module's orchestrators receive, judged by what it imports.

    dapr's workflow package is built on durabletask and Azure's on its own types, so the most
    specific import wins; a module importing none of them is durableflow code.
    """
    targets = set(imports.aliases.values()) | set(imports.star_modules)
    for root, api in _API_ROOTS:
        if any(t == root or t.startswith(root + ".") for t in targets):
            return api
    return API_DURABLEFLOW


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _keyword(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def _positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    return positional[index] if index < len(positional) else None


def _one(call: cst.Call) -> Registration | None:
    if not isinstance(call.func, cst.Attribute):
        return None
    attr = call.func.attr.value
    if attr == "add_named_orchestrator":
        label, target = _positional(call, 0), _positional(call, 1)
        text = dotted_name(target) if target is not None else None
        if text is None or label is None:
            return None
        return Registration(text, API_DURABLETASK, _string(label))
    first = _positional(call, 0)
    if attr == "register_workflow" and first is None:
        first = _keyword(call, "fn")
    text = dotted_name(first) if first is not None else None
    if text is None:
        return None
    if attr == "add_orchestrator":
        return Registration(text, API_DURABLETASK, None)
    if attr == "register_workflow":
        name = _keyword(call, "name")
        return Registration(text, API_DAPR, _string(name) if name is not None else None)
    if attr == "create":
        owner = dotted_name(call.func.value) or ""
        if owner.rsplit(".", 1)[-1] == "Orchestrator":
            return Registration(text, API_AZURE, None)
    return None


def registrations(module: cst.Module) -> list[Registration]:
    """Every registration call in the module, at any depth, in no particular order."""
    found: list[Registration] = []
    for node in iter_nodes(module, enter_scopes=True):
        if isinstance(node, cst.Call):
            registration = _one(node)
            if registration is not None:
                found.append(registration)
    return found


def foreign_targets(
    found: Iterable[Registration], defined: set[str], imports: ImportTable
) -> list[tuple[str, Registration]]:
    """Registrations of functions this module imports: ``(qualified name, registration)``.

    Args:
        found: The module's registrations.
        defined: The simple names of the functions the module defines (at any depth).
        imports: The module's import table.
    """
    foreign: list[tuple[str, Registration]] = []
    for registration in found:
        head = registration.target.split(".", 1)[0]
        if head in defined:
            continue
        qualified = imports.resolve(registration.target)
        if qualified is not None:
            foreign.append((qualified, registration))
    return foreign
