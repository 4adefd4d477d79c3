"""DUR009: mutable global or static state."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import Hit, Rule, RuleContext, orchestrator_example

__all__ = ["GlobalState"]

_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "popitem",
        "remove",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "sort",
        "reverse",
        "appendleft",
        "extendleft",
        "popleft",
    }
)
_FIX = "keep state in local variables, the input and activity results"


class GlobalState(Rule):
    """Writing module-level state, or reading module-level variables that get reassigned.

    Module state lives in one worker process: another worker replaying the same instance sees
    other values, and every replay mutates it again. This flags ``global`` declarations, changes to
    module-level lists/dicts/sets and class attributes, and reads of module-level variables that
    are assigned more than once or from functions. ``nonlocal`` inside an orchestrator refers to the
    orchestrator's own locals and is fine.
    """

    CODE = "DUR009"
    NAME = "global-state"
    MESSAGE = "mutable global/static state differs between workers and replays; keep state local"
    VALID = (
        orchestrator_example(
            'seen = []\nfor x in data:\n    seen.append(x)\n    yield ctx.call_activity("use", x)\n'
            "return seen",
        ),
        orchestrator_example('yield ctx.call_activity("use", LIMITS["max"])').replace(
            "app = df.App()", 'app = df.App()\nLIMITS = {"max": 10}'
        ),
    )
    INVALID = (
        orchestrator_example(
            'global COUNT\nCOUNT += 1\nyield ctx.call_activity("use", COUNT)',
        ).replace("app = df.App()", "app = df.App()\nCOUNT = 0"),
        orchestrator_example(
            'SEEN.add(data["id"])\nyield ctx.call_activity("use", len(SEEN))',
        ).replace("app = df.App()", "app = df.App()\nSEEN = set()"),
        orchestrator_example(
            'CACHE[data["id"]] = 1\nyield ctx.call_activity("use", data)',
        ).replace("app = df.App()", "app = df.App()\nCACHE: dict[str, int] = {}"),
        orchestrator_example(
            'yield ctx.call_activity("use", MODE)',
            "",
            'def configure():\n    global MODE\n    MODE = "fast"',
        ).replace("app = df.App()", 'app = df.App()\nMODE = "slow"'),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report global declarations, shared-container mutation and reassigned globals."""
        module = facts.module
        for decl in facts.scope_decls:
            if isinstance(decl, cst.Global):
                names = ", ".join(item.name.value for item in decl.names)
                yield Hit(decl, f"`global {names}` shares state across replays and workers; {_FIX}")
        for receiver, method, call in facts.mutations:
            if method in _MUTATORS and receiver in module.mutable and receiver not in facts.locals:
                yield Hit(
                    call,
                    f"`{receiver}.{method}()` mutates module-level state shared across replays "
                    f"and workers; {_FIX}",
                )
        for target in facts.assign_targets:
            yield from self._target_hits(target, facts)
        prefix = module.module_name + "."
        for ref in facts.refs:
            name = ref.qualified.removeprefix(prefix)
            if not ref.qualified.startswith(prefix) or "." in name:
                continue
            if name in module.functions or name in module.classes:
                continue
            if module.assigned.get(name, 0) > 1 or name in module.global_writes:
                yield Hit(
                    ref.node,
                    f"`{name}` is a module-level variable that is reassigned, so its value "
                    f"depends on the worker's history; {_FIX}",
                )

    def _target_hits(self, target: cst.BaseExpression, facts: FunctionFacts) -> Iterator[Hit]:
        module = facts.module
        if isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                yield from self._target_hits(element.value, facts)
            return
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            name = target.value.value
            if name in module.mutable and name not in facts.locals:
                yield Hit(
                    target,
                    f"`{name}[...]` writes module-level state shared across replays and "
                    f"workers; {_FIX}",
                )
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            name = target.value.value
            if name not in facts.locals and (
                name in module.classes or name in module.imports.aliases
            ):
                yield Hit(
                    target,
                    f"`{name}.{target.attr.value}` writes class or module state shared across "
                    f"replays and workers; {_FIX}",
                )
