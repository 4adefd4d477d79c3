"""DUR015: generator misuse."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.discovery import dotted_name
from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import Hit, Rule, RuleContext, orchestrator_example
from durableflow.linter.walk import FastVisitor

__all__ = ["GeneratorMisuse"]

_NOT_TASKS = (
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.List,
    cst.Tuple,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.DictComp,
    cst.SetComp,
    cst.GeneratorExp,
    cst.Comparison,
)
_CONSTANTS = frozenset({"None", "True", "False"})
_CATCH_ALL = frozenset({"builtins.BaseException", "builtins.GeneratorExit"})


class _YieldFinder(FastVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _catches_generator_exit(handler: cst.ExceptHandler, facts: FunctionFacts) -> bool:
    if handler.type is None:
        return True
    types = (
        [e.value for e in handler.type.elements]
        if isinstance(handler.type, cst.Tuple)
        else [handler.type]
    )
    return any(facts.qualified(t) in _CATCH_ALL for t in types)


class GeneratorMisuse(Rule):
    """Durable tasks never yielded, yields of non-tasks, and yields the runtime cannot stop.

    A task created with ``ctx.call_activity(...)`` and never yielded is scheduled but its result is
    never awaited, so failures vanish. Yielding a plain value (``yield 5``, ``yield [t1, t2]``)
    gives the runtime something that is not a task; use ``ctx.task_all`` for lists. The runtime
    stops an orchestrator by closing its generator, which raises ``GeneratorExit`` at the ``yield``:
    a ``yield`` in ``finally`` or a handler catching ``GeneratorExit``/``BaseException`` (or a bare
    ``except:``) around a ``yield`` keeps the orchestrator running when it must stop.
    """

    CODE = "DUR015"
    NAME = "generator-misuse"
    MESSAGE = "durable task not yielded, non-task yielded, or GeneratorExit swallowed"
    VALID = (
        orchestrator_example(
            'first = ctx.call_activity("a", data)\nsecond = ctx.call_activity("b", data)\n'
            "results = yield ctx.task_all([first, second])\nreturn results"
        ),
        orchestrator_example(
            'try:\n    yield ctx.call_activity("a", data)\nexcept Exception:\n'
            '    yield ctx.call_activity("undo", data)\nfinally:\n    ctx.set_custom_status("done")'
        ),
    )
    INVALID = (
        orchestrator_example('ctx.call_activity("a", data)\nreturn data'),
        orchestrator_example('pending = ctx.call_activity("a", data)\nreturn data'),
        orchestrator_example(
            'first = ctx.call_activity("a", data)\nsecond = ctx.call_activity("b", data)\n'
            "results = yield [first, second]\nreturn results"
        ),
        orchestrator_example(
            'try:\n    yield ctx.call_activity("a", data)\nfinally:\n'
            '    yield ctx.call_activity("cleanup", data)'
        ),
        orchestrator_example(
            'try:\n    yield ctx.call_activity("a", data)\nexcept BaseException:\n    return None'
        ),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report unyielded tasks everywhere, and yield misuse in orchestrators."""
        for call in facts.discarded_calls:
            if facts.is_durable_call(call) and isinstance(call.func, cst.Attribute):
                made = f"{dotted_name(call.func) or call.func.attr.value}(...)"
                yield Hit(
                    call,
                    f"`{made}` creates a durable task that is never yielded, so its result and "
                    f"failure are lost; write `yield {made}`",
                )
        for name, call in facts.task_vars.items():
            if facts.name_loads.get(name, 0) == 0:
                yield Hit(
                    call,
                    f"durable task `{name}` is never yielded; `yield {name}` or pass it to "
                    "`ctx.task_all`",
                )
        if not facts.is_orchestrator:
            return
        for node, in_finally in facts.yields:
            if in_finally:
                yield Hit(
                    node,
                    "`yield` in `finally` runs while the generator is being closed; move the "
                    "cleanup into an `except` block",
                )
            elif (
                node.value is None
                or isinstance(node.value, _NOT_TASKS)
                or (isinstance(node.value, cst.Name) and node.value.value in _CONSTANTS)
            ):
                yield Hit(
                    node,
                    "yielding a value that is not a durable task; yield `ctx.call_activity(...)` "
                    "etc., and `ctx.task_all([...])` for several tasks",
                )
        for stmt in facts.tries:
            finder = _YieldFinder()
            finder.walk(stmt.body)
            if not finder.found:
                continue
            for handler in stmt.handlers:
                if _catches_generator_exit(handler, facts):
                    yield Hit(
                        handler,
                        "this handler catches `GeneratorExit` around a `yield`, so the runtime "
                        "cannot stop the orchestrator; catch `Exception` instead",
                    )
