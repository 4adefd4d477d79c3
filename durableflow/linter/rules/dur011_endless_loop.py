"""DUR011: a loop that can run forever."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import Hit, Rule, RuleContext, orchestrator_example
from durableflow.linter.walk import FastVisitor

__all__ = ["EndlessLoop"]

_INFINITE_ITERATORS = frozenset({"itertools.count", "itertools.cycle"})


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    if isinstance(test, cst.Integer):
        return test.evaluated_value != 0
    return isinstance(test, cst.SimpleString) and len(test.evaluated_value or "") > 0


class _ExitFinder(FastVisitor):
    """Finds a way out of one loop: its ``break``, ``return``, ``raise`` or ``continue_as_new``."""

    def __init__(self) -> None:
        self.depth = 0
        self.found = False

    def visit_While(self, node: cst.While) -> None:
        self.depth += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.depth -= 1

    def visit_For(self, node: cst.For) -> None:
        self.depth += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.depth -= 1

    def visit_Break(self, node: cst.Break) -> None:
        self.found = self.found or self.depth == 0

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True

    def visit_Raise(self, node: cst.Raise) -> None:
        self.found = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "continue_as_new":
            self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class EndlessLoop(Rule):
    """A ``while True`` (or ``for`` over ``itertools.count``/``cycle``) with no way out.

    Every iteration of a loop that yields durable tasks adds events to the history, which is
    replayed in full each step: an eternal loop makes every step slower until the instance cannot
    run. End the loop with ``break`` or ``return``, or restart with a fresh history through
    ``ctx.continue_as_new(state)`` (the eternal-orchestration pattern). ``raise`` also counts as a
    way out.
    """

    CODE = "DUR011"
    NAME = "endless-loop"
    MESSAGE = "loop can run forever and grow history without bound; add `ctx.continue_as_new`"
    VALID = (
        orchestrator_example(
            "while True:\n"
            '    yield ctx.call_activity("cleanup", data)\n'
            "    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))\n"
            "    ctx.continue_as_new(data)",
            "from datetime import timedelta",
        ),
        orchestrator_example(
            "while True:\n"
            '    status = yield ctx.call_activity("check", data)\n'
            '    if status == "done":\n'
            "        break\n"
            "    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=5))",
            "from datetime import timedelta",
        ),
    )
    INVALID = (
        orchestrator_example(
            "while True:\n"
            '    yield ctx.call_activity("cleanup", data)\n'
            "    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))",
            "from datetime import timedelta",
        ),
        orchestrator_example(
            'for i in itertools.count():\n    yield ctx.call_activity("tick", i)',
            "import itertools",
        ),
        orchestrator_example(
            "while 1:\n"
            "    for x in data:\n"
            "        if x:\n"
            "            break\n"
            '    yield ctx.call_activity("tick", data)',
        ),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report endless loops without an exit."""
        for loop in facts.loops:
            if isinstance(loop, cst.While):
                endless = _always_true(loop.test)
            else:
                endless = (
                    isinstance(loop.iter, cst.Call)
                    and facts.qualified(loop.iter.func) in _INFINITE_ITERATORS
                )
            if not endless:
                continue
            finder = _ExitFinder()
            finder.walk(loop.body)
            if not finder.found:
                yield Hit(
                    loop,
                    "loop can run forever and grow the history without bound; end it with "
                    "`break`/`return` or restart with `ctx.continue_as_new(state)`",
                )
