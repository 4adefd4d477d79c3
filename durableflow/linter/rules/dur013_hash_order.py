"""DUR013: hash-order nondeterminism."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import BannedApiRule, Hit, RuleContext, orchestrator_example

__all__ = ["HashOrder"]

_SET_FACTORIES = frozenset({"builtins.set", "builtins.frozenset"})
_ORDERING_CALLS = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.enumerate", "builtins.iter"}
)
_SET_METHODS = frozenset({"union", "intersection", "difference", "symmetric_difference"})


def _only_numbers(node: cst.Set) -> bool:
    return all(isinstance(e.value, cst.Integer | cst.Float) for e in node.elements)


def _is_set(expr: cst.BaseExpression, facts: FunctionFacts) -> bool:
    if isinstance(expr, cst.Set):
        return not _only_numbers(expr)
    if isinstance(expr, cst.SetComp):
        return True
    if isinstance(expr, cst.Name):
        return expr.value in facts.set_locals
    if isinstance(expr, cst.BinaryOperation) and isinstance(
        expr.operator, cst.BitOr | cst.BitAnd | cst.BitXor | cst.Subtract
    ):
        return _is_set(expr.left, facts) or _is_set(expr.right, facts)
    if isinstance(expr, cst.Call):
        if facts.qualified(expr.func) in _SET_FACTORIES:
            return True
        func = expr.func
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in _SET_METHODS
            and _is_set(func.value, facts)
        )
    return False


class HashOrder(BannedApiRule):
    """Iterating a set, and ``hash()``/``id()``, depend on the process.

    String hashing is salted per process (``PYTHONHASHSEED``), so a set of strings iterates in a
    different order on another worker, and ``id()`` is a memory address. An orchestrator that
    schedules tasks in set order schedules them in another order on replay, and replay fails.
    Iterate ``sorted(...)`` or a list, and key things by a stable value.
    """

    CODE = "DUR013"
    NAME = "hash-order"
    MESSAGE = "set order/hash()/id() differ between processes; iterate `sorted(...)`"
    VALID = (
        orchestrator_example(
            'for name in sorted(set(data["names"])):\n    yield ctx.call_activity("greet", name)'
        ),
        orchestrator_example(
            'for key, value in data["items"].items():\n'
            '    yield ctx.call_activity("put", [key, value])'
        ),
        orchestrator_example('for n in {1, 2, 3}:\n    yield ctx.call_activity("tick", n)'),
    )
    INVALID = (
        orchestrator_example(
            'for name in set(data["names"]):\n    yield ctx.call_activity("greet", name)'
        ),
        orchestrator_example(
            'pending = {"a", "b"}\ntasks = [ctx.call_activity("run", p) for p in pending]\n'
            "yield ctx.task_all(tasks)"
        ),
        orchestrator_example('yield ctx.call_activity("shard", hash(data["key"]) % 8)'),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report set iteration and ``hash``/``id``."""
        yield from super().check(facts, context)
        message = (
            "iterating a set follows hash order, which differs between processes; "
            "iterate `sorted(...)` or a list"
        )
        for expr in facts.iterations:
            if _is_set(expr, facts):
                yield Hit(expr, message)
        for call in facts.calls:
            if (
                facts.qualified(call.func) in _ORDERING_CALLS
                and call.args
                and _is_set(call.args[0].value, facts)
            ):
                yield Hit(call, message)
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in {"join", "pop"}
                and (
                    (func.attr.value == "join" and call.args and _is_set(call.args[0].value, facts))
                    or (func.attr.value == "pop" and not call.args and _is_set(func.value, facts))
                )
            ):
                yield Hit(call, message)
