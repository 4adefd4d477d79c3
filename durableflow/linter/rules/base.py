"""The rule interface and the table-driven rule most codes build on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from durableflow.linter.banned import BANNED_APIS, BannedApi, lookup
from durableflow.linter.facts import FunctionFacts, Reference
from durableflow.linter.modinfo import ModuleInfo

__all__ = ["BannedApiRule", "Edit", "Hit", "Rule", "RuleContext"]


@dataclass(frozen=True, slots=True)
class Edit:
    """A rewrite: replace ``target`` (a node of the linted module) with ``replacement``.

    Attributes:
        target: Node to replace.
        replacement: New node.
        safe: Applied by ``--fix`` (True) or only with ``--unsafe-fixes`` (False).
        imports: ``(module, name)`` pairs the replacement needs (``("datetime", "timedelta")``).
    """

    target: cst.CSTNode
    replacement: cst.CSTNode
    safe: bool
    imports: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """A problem a rule found: where, what, and how to fix it if it can be fixed."""

    node: cst.CSTNode
    message: str
    edit: Edit | None = None


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What rules share across one run.

    Attributes:
        banned: The banned-API table with the project's extensions.
        foreign_activities: Qualified names of activities defined in other linted modules.
    """

    banned: Mapping[str, BannedApi] = field(default_factory=lambda: BANNED_APIS)
    foreign_activities: frozenset[str] = frozenset()


class Rule:
    """Base class: one rule, one code. Subclasses document themselves in their docstring.

    Class attributes:
        CODE: Stable code, ``DURnnn``; never reused for another meaning.
        NAME: Short slug for humans.
        MESSAGE: One-line summary used in the rule table.
        VALID: Orchestrator modules the rule must accept.
        INVALID: Orchestrator modules the rule must flag (at least once each).
        FIXES: ``(before, after)`` module pairs for the rule's rewrites (``--unsafe-fixes`` on).
    """

    CODE: ClassVar[str] = ""
    NAME: ClassVar[str] = ""
    MESSAGE: ClassVar[str] = ""
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()
    FIXES: ClassVar[tuple[tuple[str, str], ...]] = ()

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Yield the problems in one function."""
        raise NotImplementedError

    def check_module(self, module: ModuleInfo) -> Iterator[Hit]:
        """Yield problems at module level; called once per module that defines orchestrators."""
        return iter(())


def _prefix_node(ref: Reference, matched: str) -> cst.BaseExpression:
    """The part of a reference's chain that spells ``matched``.

    For example ``os.environ`` in ``os.environ.get``.
    """
    extra = ref.qualified.count(".") - matched.count(".")
    node = ref.node
    for _ in range(extra):
        if not isinstance(node, cst.Attribute):
            break
        node = node.value
    return node


class BannedApiRule(Rule):
    """A rule whose findings are the banned-API table's entries with this rule's code."""

    def banned_hits(
        self, facts: FunctionFacts, context: RuleContext
    ) -> Iterator[tuple[Reference, str, BannedApi, cst.BaseExpression]]:
        """Yield ``(reference, matched_key, entry, node_to_report)`` for this rule's code."""
        for ref in facts.refs:
            found = lookup(ref.qualified, context.banned)
            if found is None or found[1].code != self.CODE:
                continue
            key, entry = found
            node = _prefix_node(ref, key)
            if entry.only_bare_call and (key != ref.qualified or ref.call is None or ref.call.args):
                continue
            yield ref, key, entry, node

    def edit_for(self, facts: FunctionFacts, ref: Reference, key: str) -> Edit | None:
        """Return the rewrite for one banned use, if this rule has one."""
        return None

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report each use of a banned API of this rule's code."""
        for ref, key, entry, node in self.banned_hits(facts, context):
            yield Hit(node, entry.message(key), self.edit_for(facts, ref, key))


def orchestrator_example(body: str, imports: str = "", extra: str = "") -> str:
    """Build a small module with one orchestrator, for rule examples.

    Args:
        body: The orchestrator's body, unindented; it is indented by four spaces.
        imports: Import lines placed after ``import durableflow as df``.
        extra: Module-level code placed after the orchestrator (helpers, registrations).
    """
    indented = "".join(f"    {line}\n" if line else "\n" for line in body.strip("\n").split("\n"))
    head = "import durableflow as df\n" + (imports.strip("\n") + "\n" if imports else "")
    tail = "\n\n" + extra.strip("\n") + "\n" if extra else ""
    return f"{head}\napp = df.App()\n\n\n@app.orchestrator\ndef orch(ctx, data):\n{indented}{tail}"
