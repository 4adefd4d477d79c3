"""DUR006: blocking calls."""

from __future__ import annotations

import libcst as cst

from durableflow.linter.facts import FunctionFacts, Reference
from durableflow.linter.rules.base import BannedApiRule, Edit, orchestrator_example

__all__ = ["Blocking"]


class Blocking(BannedApiRule):
    """Sleeping or waiting blocks the worker and happens again on every replay.

    ``time.sleep`` in an orchestrator holds a worker thread for the whole delay and sleeps again
    each time the orchestration replays. A durable timer costs nothing while it waits and is not
    repeated: ``yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=s))``. To wait
    for something to happen, use ``yield ctx.wait_for_external_event(name)``. ``--unsafe-fixes``
    rewrites ``time.sleep(s)`` in an orchestrator into a durable timer (unsafe because the
    orchestrator now yields one more task, which changes the history of running instances).
    """

    CODE = "DUR006"
    NAME = "blocking"
    MESSAGE = "blocking call holds the worker and repeats on replay; use a durable timer or event"
    VALID = (
        orchestrator_example(
            "yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=30))\n"
            'yield ctx.call_activity("poll", data)',
            "from datetime import timedelta",
        ),
    )
    INVALID = (
        orchestrator_example(
            'time.sleep(30)\nyield ctx.call_activity("poll", data)', "import time"
        ),
        orchestrator_example(
            'pause(1)\nyield ctx.call_activity("poll", data)', "from time import sleep as pause"
        ),
    )
    FIXES = (
        (
            orchestrator_example(
                'yield ctx.call_activity("start", data)\n'
                "time.sleep(data['delay'])  # back off\n"
                'yield ctx.call_activity("poll", data)',
                "import time",
            ),
            "import durableflow as df\nimport time\nfrom datetime import timedelta\n"
            + orchestrator_example(
                'yield ctx.call_activity("start", data)\n'
                "yield ctx.create_timer(ctx.current_utc_datetime + "
                "timedelta(seconds=data['delay']))  # back off\n"
                'yield ctx.call_activity("poll", data)',
            ).removeprefix("import durableflow as df\n"),
        ),
    )

    def edit_for(self, facts: FunctionFacts, ref: Reference, key: str) -> Edit | None:
        """Rewrite a ``time.sleep(s)`` statement into a durable timer (unsafe)."""
        call = ref.call
        if call is None or key != "time.sleep" or len(call.args) != 1 or call.args[0].keyword:
            return None
        ctx = facts.fix_context(call)
        statement = facts.statement_of.get(id(call))
        if ctx is None or statement is None:
            return None
        seconds = cst.Module(body=[]).code_for_node(call.args[0].value)
        timer = cst.parse_statement(
            f"yield {ctx}.create_timer({ctx}.current_utc_datetime + timedelta(seconds={seconds}))\n"
        )
        assert isinstance(timer, cst.SimpleStatementLine)
        replacement = statement.with_changes(body=timer.body)
        return Edit(statement, replacement, safe=False, imports=(("datetime", "timedelta"),))
