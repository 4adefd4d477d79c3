"""DUR016: an activity called directly instead of scheduled."""

from __future__ import annotations

from collections.abc import Iterator

from durableflow.discovery import dotted_name
from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import Hit, Rule, RuleContext, orchestrator_example

__all__ = ["DirectActivityCall"]

_ACTIVITY = '@app.activity\ndef charge(order):\n    return {"charged": order["total"]}'


class DirectActivityCall(Rule):
    """An activity function called like a plain function from orchestrator code.

    Calling ``charge(order)`` runs the activity's body inside the orchestrator: on every replay,
    with its I/O repeated and its result not recorded in history, and without the retries and
    at-least-once delivery activities get. Schedule it instead: ``yield ctx.call_activity(charge,
    order)``. Activities are recognised in the same module and in any other linted module.
    """

    CODE = "DUR016"
    NAME = "direct-activity-call"
    MESSAGE = "activity called directly runs on every replay; `yield ctx.call_activity(fn, input)`"
    VALID = (
        orchestrator_example(
            "result = yield ctx.call_activity(charge, data)\nreturn result", extra=_ACTIVITY
        ),
    )
    INVALID = (orchestrator_example("return charge(data)", extra=_ACTIVITY),)

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report calls whose target is an activity of this or another linted module."""
        module = facts.module
        prefix = module.module_name + "."
        for ref in facts.refs:
            if ref.call is None or ref.call.func is not ref.node:
                continue
            local = ref.qualified.removeprefix(prefix)
            foreign = ref.qualified in context.foreign_activities
            if foreign:
                local = dotted_name(ref.node) or local
            if foreign or (ref.qualified.startswith(prefix) and local in module.activities):
                yield Hit(
                    ref.call,
                    f"activity `{local}` is called directly, so it runs on every replay; "
                    f"schedule it with `yield ctx.call_activity({local}, ...)`",
                )
