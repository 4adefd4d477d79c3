"""DUR012: logging and printing that repeat on every replay."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.linter.facts import FunctionFacts, Reference
from durableflow.linter.rules.base import (
    BannedApiRule,
    Edit,
    Hit,
    RuleContext,
    orchestrator_example,
)

__all__ = ["ReplayLogging"]

_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
_LOGGER_FACTORIES = frozenset({"logging.getLogger", "structlog.get_logger"})
_MESSAGE = "repeats on every replay; use `ctx.logger`, or guard it with `if not ctx.is_replaying:`"


class ReplayLogging(BannedApiRule):
    """``print`` and logging in orchestrator code repeat on every replay.

    Each replay runs the orchestrator from the start, so a log line written before the last
    ``yield`` is written again every time the instance resumes: logs fill with duplicates that look
    like repeated work. Use the replay-safe ``ctx.logger`` (silent while replaying), or put the call
    under ``if not ctx.is_replaying:``. ``--fix`` adds that guard around a logging statement.
    """

    CODE = "DUR012"
    NAME = "replay-logging"
    MESSAGE = "logging/print repeats on every replay; use `ctx.logger` or `ctx.is_replaying`"
    VALID = (
        orchestrator_example(
            'ctx.logger.info("starting %s", data)\nyield ctx.call_activity("work", data)'
        ),
        orchestrator_example(
            'if not ctx.is_replaying:\n    log.info("starting %s", data)\n'
            'yield ctx.call_activity("work", data)',
            "import logging",
            "",
        ).replace("app = df.App()", "app = df.App()\nlog = logging.getLogger(__name__)"),
    )
    INVALID = (
        orchestrator_example('print("starting", data)\nyield ctx.call_activity("work", data)'),
        orchestrator_example(
            'log.info("starting %s", data)\nyield ctx.call_activity("work", data)', "import logging"
        ).replace("app = df.App()", "app = df.App()\nlog = logging.getLogger(__name__)"),
        orchestrator_example(
            'logging.getLogger("x").warning("slow")\nyield ctx.call_activity("work", data)',
            "import logging",
        ),
        orchestrator_example(
            'logger = logging.getLogger(__name__)\nlogger.info("start")\n'
            'yield ctx.call_activity("work", data)',
            "import logging",
        ),
    )
    FIXES = (
        (
            orchestrator_example(
                'result = yield ctx.call_activity("work", data)\n'
                'logging.info("got %s", result)  # progress\nreturn result',
                "import logging",
            ),
            orchestrator_example(
                'result = yield ctx.call_activity("work", data)\n'
                "if not ctx.is_replaying:\n"
                '    logging.info("got %s", result)  # progress\nreturn result',
                "import logging",
            ),
        ),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report unguarded print/logging calls, including calls on module loggers."""
        for ref, key, entry, node in self.banned_hits(facts, context):
            if ref.call is not None and id(ref.call) not in facts.guarded:
                yield Hit(node, entry.message(key), self._guard(facts, ref.call))
        loggers = {f"{facts.module.module_name}.{name}" for name in facts.module.loggers}
        for receiver, method, method_call in facts.mutations:
            made = facts.assigned_calls.get(receiver)
            if (
                method in _LOG_METHODS
                and made is not None
                and id(method_call) not in facts.guarded
                and facts.qualified(made.func) in _LOGGER_FACTORIES
            ):
                yield Hit(
                    method_call,
                    f"`{receiver}.{method}` {_MESSAGE}",
                    self._guard(facts, method_call),
                )
        for ref in facts.refs:
            call = ref.call
            owner, _, method = ref.qualified.rpartition(".")
            if call is None or id(call) in facts.guarded or method not in _LOG_METHODS:
                continue
            if owner in loggers:
                shown = ref.qualified.removeprefix(facts.module.module_name + ".")
                yield Hit(ref.node, f"`{shown}` {_MESSAGE}", self._guard(facts, call))
        for call in facts.calls:
            func = call.func
            if (
                id(call) not in facts.guarded
                and isinstance(func, cst.Attribute)
                and func.attr.value in _LOG_METHODS
                and isinstance(func.value, cst.Call)
                and facts.qualified(func.value.func) in _LOGGER_FACTORIES
            ):
                yield Hit(
                    call, f"logger `.{func.attr.value}()` {_MESSAGE}", self._guard(facts, call)
                )

    def _guard(self, facts: FunctionFacts, call: cst.Call) -> Edit | None:
        ctx = facts.fix_context(call)
        statement = facts.statement_of.get(id(call))
        if ctx is None or statement is None:
            return None
        guarded = cst.If(
            test=cst.parse_expression(f"not {ctx}.is_replaying"),
            body=cst.IndentedBlock(body=[statement.with_changes(leading_lines=())]),
            leading_lines=statement.leading_lines,
        )
        return Edit(statement, guarded, safe=True)

    def edit_for(self, facts: FunctionFacts, ref: Reference, key: str) -> Edit | None:
        """Guard the logging statement (see ``check``)."""
        return None if ref.call is None else self._guard(facts, ref.call)
