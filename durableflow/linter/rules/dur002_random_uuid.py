"""DUR002: random UUIDs."""

from __future__ import annotations

import libcst as cst

from durableflow.linter.facts import FunctionFacts, Reference
from durableflow.linter.rules.base import BannedApiRule, Edit, orchestrator_example

__all__ = ["RandomUuid"]


class RandomUuid(BannedApiRule):
    """``uuid.uuid4()`` and ``uuid.uuid1()`` return a new value on every replay.

    An id generated in an orchestrator and passed to an activity or used as a sub-orchestration
    instance id must be the same on every replay, or the history no longer matches.
    ``ctx.new_uuid()`` is a name-based UUID of the instance id and a counter, identical on every
    replay, returned as its canonical string (as ``str(uuid.uuid4())`` writes it). Name-based
    ``uuid.uuid3``/``uuid.uuid5`` are deterministic and allowed. ``--fix`` rewrites
    ``uuid.uuid4()`` to ``ctx.new_uuid()``, ``uuid.uuid4().hex`` to
    ``ctx.new_uuid().replace("-", "")``, and another attribute of it (``.int``, ``.bytes``) to
    that attribute of ``uuid.UUID(ctx.new_uuid())``.
    """

    CODE = "DUR002"
    NAME = "random-uuid"
    MESSAGE = "random UUID differs on replay; use `ctx.new_uuid()`"
    VALID = (
        orchestrator_example(
            'order_id = ctx.new_uuid()\nyield ctx.call_activity("ship", order_id)'
        ),
        orchestrator_example(
            'key = uuid.uuid5(uuid.NAMESPACE_URL, data["url"])\n'
            'yield ctx.call_activity("fetch", str(key))',
            "import uuid",
        ),
    )
    INVALID = (
        orchestrator_example('yield ctx.call_activity("ship", str(uuid.uuid4()))', "import uuid"),
        orchestrator_example(
            'yield ctx.call_activity("ship", str(make_id()))', "from uuid import uuid1 as make_id"
        ),
    )
    FIXES = (
        (
            orchestrator_example(
                'order_id = uuid.uuid4()  # the order\nyield ctx.call_activity("ship", order_id)',
                "import uuid",
            ),
            orchestrator_example(
                'order_id = ctx.new_uuid()  # the order\nyield ctx.call_activity("ship", order_id)',
                "import uuid",
            ),
        ),
        (
            orchestrator_example(
                'yield ctx.call_activity("ship", uuid.uuid4().hex)',
                "import uuid",
            ),
            orchestrator_example(
                'yield ctx.call_activity("ship", ctx.new_uuid().replace("-", ""))',
                "import uuid",
            ),
        ),
        (
            orchestrator_example(
                'yield ctx.call_activity("ship", uuid.uuid4().int)', "import uuid"
            ),
            orchestrator_example(
                'yield ctx.call_activity("ship", UUID(ctx.new_uuid()).int)',
                "import uuid\nfrom uuid import UUID",
            ),
        ),
    )

    def edit_for(self, facts: FunctionFacts, ref: Reference, key: str) -> Edit | None:
        """Rewrite ``uuid.uuid4()`` to ``ctx.new_uuid()`` (a str: UUID attributes adapted)."""
        call = ref.call
        if call is None or call.args or key != "uuid.uuid4" or ref.qualified != key:
            return None
        ctx = facts.fix_context(call)
        if ctx is None:
            return None
        attribute = _attribute_of(facts.node, call)
        if attribute is None:
            return Edit(call, cst.parse_expression(f"{ctx}.new_uuid()"), safe=True)
        name = attribute.attr.value
        if name == "hex":
            text = f'{ctx}.new_uuid().replace("-", "")'
            return Edit(attribute, cst.parse_expression(text), safe=True)
        text = f"UUID({ctx}.new_uuid()).{name}"
        return Edit(attribute, cst.parse_expression(text), safe=True, imports=(("uuid", "UUID"),))


def _attribute_of(root: cst.CSTNode, call: cst.Call) -> cst.Attribute | None:
    """The attribute read on ``call``'s result (``uuid.uuid4().hex``), if any."""
    found: list[cst.Attribute] = []

    class _Find(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            if node.value is call:
                found.append(node)
            return not found

    root.visit(_Find())
    return found[0] if found else None
