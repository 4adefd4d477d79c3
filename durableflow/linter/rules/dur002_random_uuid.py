"""DUR002: random UUIDs."""

from __future__ import annotations

import libcst as cst

from durableflow.discovery import API_DAPR
from durableflow.discovery.tree import iter_nodes
from durableflow.linter.dialects import str_uuid
from durableflow.linter.facts import FunctionFacts, Reference
from durableflow.linter.rules.base import BannedApiRule, Edit, orchestrator_example

__all__ = ["RandomUuid"]


class RandomUuid(BannedApiRule):
    """``uuid.uuid4()`` and ``uuid.uuid1()`` return a new value on every replay.

    An id generated in an orchestrator and passed to an activity or used as a sub-orchestration
    instance id must be the same on every replay, or the history no longer matches.
    ``ctx.new_uuid()`` is a name-based UUID of the instance id and a counter, identical on every
    replay. Name-based ``uuid.uuid3``/``uuid.uuid5`` are deterministic and allowed. ``--fix``
    rewrites ``uuid.uuid4()``. ``new_uuid()`` returns a ``str`` (in durableflow as in Durable
    Functions and durabletask): ``str(uuid.uuid4())`` becomes ``ctx.new_uuid()``,
    ``uuid.uuid4().hex`` becomes ``ctx.new_uuid().replace("-", "")``, other UUID attributes are
    left alone, and a bare ``uuid.uuid4()`` is rewritten only by ``--unsafe-fixes`` (the value
    changes type). dapr's context has no ``new_uuid()``, so nothing is rewritten there.
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
    )

    def edit_for(self, facts: FunctionFacts, ref: Reference, key: str) -> Edit | None:
        """Rewrite ``uuid.uuid4()`` to ``ctx.new_uuid()``."""
        call = ref.call
        if call is None or call.args or key != "uuid.uuid4" or ref.qualified != key:
            return None
        ctx = facts.fix_context(call)
        if ctx is None or facts.api == API_DAPR:
            return None
        new = f"{ctx}.new_uuid()"
        parent = _parent(facts.node, call)
        if isinstance(parent, cst.Attribute) and parent.attr.value == "hex":
            text = new if str_uuid(facts.api) else f"str({new})"
            return Edit(parent, cst.parse_expression(f'{text}.replace("-", "")'), safe=True)
        if isinstance(parent, cst.Attribute):
            return None  # .int, .bytes, ...: a str has none of them; no rewrite is right
        if (
            isinstance(parent, cst.Call)
            and len(parent.args) == 1
            and isinstance(parent.func, cst.Name)
            and parent.func.value == "str"
            and "str" not in facts.locals
        ):
            return Edit(parent, cst.parse_expression(new), safe=True)
        return Edit(call, cst.parse_expression(new), safe=False)


def _parent(root: cst.CSTNode, child: cst.CSTNode) -> cst.CSTNode | None:
    """The node whose field holds ``child`` (walked only for a reported call)."""
    for node in iter_nodes(root, enter_scopes=False):
        if isinstance(node, cst.Attribute) and node.value is child:
            return node
        if isinstance(node, cst.Call) and any(arg.value is child for arg in node.args):
            return node
    return None
