"""DUR000: the file does not parse."""

from __future__ import annotations

from collections.abc import Iterator

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import Hit, Rule, RuleContext, orchestrator_example

__all__ = ["Unparsable"]


class Unparsable(Rule):
    """The file cannot be parsed, so nothing in it can be checked.

    Reported at the line and column where parsing failed; the run goes on with the other files.
    Fix the syntax error (the message quotes the parser).
    """

    CODE = "DUR000"
    NAME = "syntax-error"
    MESSAGE = "file does not parse; nothing in it was checked"
    VALID = (orchestrator_example('yield ctx.call_activity("a", data)'),)
    INVALID = (orchestrator_example('yield ctx.call_activity("a", data'),)

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Parse errors are reported by the engine, before any function is checked."""
        return iter(())
