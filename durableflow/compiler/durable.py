"""Recognise durable calls (``ctx.call_activity(...)`` and friends) and check their arguments."""

from __future__ import annotations

import ast as pyast
from dataclasses import dataclass

import libcst as cst

from durableflow.compiler.expressions import ExpressionTranslator, FunctionScope
from durableflow.discovery import dotted_name

__all__ = ["SIGNATURES", "DurableCall", "bind_arguments", "callable_names", "parse_durable"]

SIGNATURES: dict[str, tuple[str, ...]] = {
    "call_activity": ("name", "input", "retry", "timeout"),
    "call_sub_orchestrator": ("name", "input", "instance_id", "retry"),
    "create_timer": ("fire_at",),
    "wait_for_external_event": ("name", "timeout"),
    "task_all": ("tasks",),
    "task_any": ("tasks",),
    "continue_as_new": ("input",),
}
"""Parameter names of each durable method, in positional order."""

_RETRY_FIELDS = (
    "first_interval",
    "max_attempts",
    "backoff_coefficient",
    "max_interval",
    "timeout",
    "handle",
)
_KIND = {
    "call_activity": "activity",
    "call_sub_orchestrator": "suborchestration",
    "create_timer": "timer",
    "wait_for_external_event": "wait_event",
    "continue_as_new": "continue_as_new",
}


@dataclass(frozen=True, slots=True)
class DurableCall:
    """A checked single-task durable call (not ``task_all``/``task_any``).

    Attributes:
        kind: Node kind (``activity``, ``suborchestration``, ``timer``, ``wait_event``,
            ``continue_as_new``).
        label: Id label (the activity/orchestrator/event name, or the kind).
        fields: Node fields (``name``, ``value``, ``retry``, ``timeout``, ``instance_id``).
    """

    kind: str
    label: str
    fields: dict[str, object]


def callable_names(module: cst.Module) -> dict[str, str]:
    """Function name -> registered name for module functions registered with ``name="..."``."""
    out: dict[str, str] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.FunctionDef):
            continue
        for dec in stmt.decorators:
            call = dec.decorator
            if not isinstance(call, cst.Call):
                continue
            for arg in call.args:
                if (
                    arg.keyword is not None
                    and arg.keyword.value == "name"
                    and isinstance(arg.value, cst.SimpleString)
                ):
                    out[stmt.name.value] = str(pyast.literal_eval(arg.value.value))
    return out


def bind_arguments(
    call: cst.Call, params: tuple[str, ...], scope: FunctionScope
) -> dict[str, cst.BaseExpression] | None:
    """Map ``call``'s arguments onto ``params`` (positional, then by keyword)."""
    bound: dict[str, cst.BaseExpression] = {}
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else "call"
    for i, arg in enumerate(call.args):
        if arg.star:
            scope.error(arg, "DFC023", f"*args in {method}()", "pass the arguments one by one")
            return None
        key = (
            arg.keyword.value
            if arg.keyword is not None
            else (params[i] if i < len(params) else None)
        )
        if key is None or key not in params or key in bound:
            scope.error(
                arg,
                "DFC023",
                f"unexpected argument to {method}()",
                f"{method} takes ({', '.join(params)})",
            )
            return None
        bound[key] = arg.value
    return bound


def _callee_name(
    node: cst.BaseExpression, scope: FunctionScope, registered: dict[str, str]
) -> str | None:
    if isinstance(node, cst.Name) and node.value in scope.local_values:
        # A local assigned once (`name = "charge_card"`): the node still has one fixed name.
        held = scope.local_values[node.value]
        if isinstance(held, cst.SimpleString | cst.Name | cst.Attribute):
            return _callee_name(held, scope, registered)
        return None
    if isinstance(node, cst.SimpleString):
        value = pyast.literal_eval(node.value)
        return value if isinstance(value, str) else None
    if isinstance(node, cst.Name) and node.value not in scope.local_names:
        const = scope.module_constants.get(node.value)
        if isinstance(const, cst.SimpleString):
            value = pyast.literal_eval(const.value)
            return value if isinstance(value, str) else None
    dotted = dotted_name(node)
    if dotted is None:
        return None
    last = dotted.rsplit(".", 1)[-1]
    if dotted in scope.local_names:
        return None
    return registered.get(dotted, last)


def _retry(
    node: cst.BaseExpression,
    scope: FunctionScope,
    tr: ExpressionTranslator,
    assigned: frozenset[str],
) -> tuple[tuple[str, str], ...] | None:
    hint = "write `retry=RetryPolicy(first_interval=..., max_attempts=...)` in the call or as a "
    hint += "module constant, without `handle`"
    name = node.value if isinstance(node, cst.Name) else None
    if name in scope.module_constants and name not in scope.local_names:
        node = scope.module_constants[name]
    elif name is not None and name in scope.local_values:
        node = scope.local_values[name]  # `retry = RetryPolicy(...)` once, then `retry=retry`
    dotted = dotted_name(node.func) if isinstance(node, cst.Call) else None
    if not isinstance(node, cst.Call) or dotted is None or not dotted.endswith("RetryPolicy"):
        scope.error(node, "DFC018", "retry policy is not a RetryPolicy(...) literal", hint)
        return None
    fields: list[tuple[str, str]] = []
    for i, arg in enumerate(node.args):
        key = (
            arg.keyword.value
            if arg.keyword is not None
            else (_RETRY_FIELDS[i] if i < len(_RETRY_FIELDS) else None)
        )
        if key is None or key == "handle" or key not in _RETRY_FIELDS or arg.star:
            scope.error(arg, "DFC018", f"RetryPolicy argument {key or '?'} is not supported", hint)
            return None
        text = tr.translate(arg.value, assigned)
        if text is None:
            return None
        fields.append((key, text))
    return tuple(sorted(fields))


def parse_durable(
    call: cst.Call,
    scope: FunctionScope,
    tr: ExpressionTranslator,
    assigned: frozenset[str],
    registered: dict[str, str],
) -> DurableCall | None:
    """Check a single-task durable call; None after recording errors."""
    assert isinstance(call.func, cst.Attribute)
    method = call.func.attr.value
    args = bind_arguments(call, SIGNATURES[method], scope)
    if args is None:
        return None
    kind = _KIND[method]
    fields: dict[str, object] = {}
    label = kind
    ok = True
    if method in ("call_activity", "call_sub_orchestrator", "wait_for_external_event"):
        if "name" not in args:
            scope.error(call, "DFC023", f"{method}() needs a name", "pass the name first")
            return None
        name = _callee_name(args["name"], scope, registered)
        if name is None:
            what = "event" if method == "wait_for_external_event" else "callee"
            held = args["name"]
            if isinstance(held, cst.Name) and held.value in scope.local_names:
                message = (
                    f"the {what} name `{held.value}` is a variable that does not hold one fixed "
                    "name (it is assigned more than once, or from a computed value); a graph node "
                    "needs its name before the instance runs"
                )
                hint = (
                    f"assign `{held.value}` once from a string literal, or make one call per "
                    'name in its own branch (`if c: yield ctx.call_activity("a", x)`)'
                )
            else:
                message = f"the {what} name must be a string literal or a function name"
                hint = 'write the name literally (e.g. "send_email") or pass the function itself'
            scope.error(held, "DFC019", message, hint)
            return None
        label = name
        fields["name"] = name
    for key, field_name in (
        ("input", "value"),
        ("fire_at", "value"),
        ("timeout", "timeout"),
        ("instance_id", "instance_id"),
    ):
        if key in args:
            text = tr.translate(args[key], assigned)
            ok = ok and text is not None
            fields[field_name] = text
    if method == "create_timer" and "fire_at" not in args:
        scope.error(call, "DFC023", "create_timer() needs fire_at", "pass a datetime or timedelta")
        return None
    if "retry" in args:
        retry = _retry(args["retry"], scope, tr, assigned)
        ok = ok and retry is not None
        fields["retry"] = retry
    return DurableCall(kind, label, fields) if ok else None
