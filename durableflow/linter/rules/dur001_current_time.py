"""DUR001: current date and time."""

from __future__ import annotations

import libcst as cst

from durableflow.linter.dialects import naive_clock
from durableflow.linter.facts import FunctionFacts, Reference
from durableflow.linter.rules.base import BannedApiRule, Edit, orchestrator_example

__all__ = ["CurrentTime"]

_UTC = frozenset({"datetime.timezone.utc", "datetime.UTC"})


class CurrentTime(BannedApiRule):
    """Reading the clock returns a different value on every replay.

    An orchestrator runs again from the start each time it resumes, so ``datetime.now()`` or
    ``time.time()`` give a new answer on each replay and the code can take another branch than it
    took the first time. ``ctx.current_utc_datetime`` is the time the current step started, read
    from history, and is the same on every replay. ``--fix`` rewrites ``datetime.now(timezone.utc)``
    and ``time.time()``; ``--unsafe-fixes`` also rewrites ``datetime.utcnow()``, which becomes
    timezone-aware. durabletask's and dapr's ``current_utc_datetime`` is a naive UTC datetime,
    so there ``utcnow()`` is replaced by it safely and the aware forms get
    ``.replace(tzinfo=timezone.utc)``.
    """

    CODE = "DUR001"
    NAME = "current-time"
    MESSAGE = "current date/time differs on replay; use `ctx.current_utc_datetime`"
    VALID = (
        orchestrator_example(
            "deadline = ctx.current_utc_datetime + timedelta(hours=1)\n"
            'yield ctx.call_activity("remind", deadline.isoformat())',
            "from datetime import timedelta",
        ),
        orchestrator_example(
            'stamp = datetime.fromisoformat(data["at"])\n'
            'yield ctx.call_activity("log", str(stamp))',
            "from datetime import datetime",
        ),
    )
    INVALID = (
        orchestrator_example(
            'yield ctx.call_activity("log", datetime.now().isoformat())',
            "from datetime import datetime",
        ),
        orchestrator_example(
            'started = t.time()\nyield ctx.call_activity("log", started)', "import time as t"
        ),
        orchestrator_example(
            'clock = dt.datetime.utcnow\nyield ctx.call_activity("log", str(clock()))',
            "import datetime as dt",
        ),
    )
    FIXES = (
        (
            orchestrator_example(
                'now = datetime.now(timezone.utc)\nyield ctx.call_activity("log", str(now))',
                "from datetime import datetime, timezone",
            ),
            orchestrator_example(
                'now = ctx.current_utc_datetime\nyield ctx.call_activity("log", str(now))',
                "from datetime import datetime, timezone",
            ),
        ),
        (
            orchestrator_example(
                'yield ctx.call_activity("log", time.time())\n'
                'yield ctx.call_activity("log", datetime.datetime.utcnow())',
                "import datetime\nimport time",
            ),
            orchestrator_example(
                'yield ctx.call_activity("log", ctx.current_utc_datetime.timestamp())\n'
                'yield ctx.call_activity("log", ctx.current_utc_datetime)',
                "import datetime\nimport time",
            ),
        ),
    )

    def edit_for(self, facts: FunctionFacts, ref: Reference, key: str) -> Edit | None:
        """Rewrite ``now(timezone.utc)``, ``time.time()`` and (unsafely) ``utcnow()``."""
        call = ref.call
        if call is None or key != ref.qualified:
            return None
        ctx = facts.fix_context(call)
        if ctx is None:
            return None
        naive = naive_clock(facts.api)
        now = cst.parse_expression(f"{ctx}.current_utc_datetime")
        if key == "datetime.datetime.now" and len(call.args) == 1:
            arg = call.args[0]
            tz_arg = arg.keyword is None or arg.keyword.value == "tz"
            if tz_arg and facts.qualified(arg.value) in _UTC:
                if naive:
                    utc = cst.Module(body=[]).code_for_node(arg.value)
                    now = cst.parse_expression(f"{ctx}.current_utc_datetime.replace(tzinfo={utc})")
                return Edit(call, now, safe=True)
            return None
        if call.args:
            return None
        if key == "time.time" and naive:
            stamp = f"{ctx}.current_utc_datetime.replace(tzinfo=timezone.utc).timestamp()"
            return Edit(call, cst.parse_expression(stamp), True, (("datetime", "timezone"),))
        if key == "time.time":
            return Edit(call, cst.parse_expression(f"{ctx}.current_utc_datetime.timestamp()"), True)
        if key == "datetime.datetime.utcnow":
            return Edit(call, now, safe=naive)
        return None
