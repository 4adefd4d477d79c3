"""Bug: outside business hours the order waits for the morning: the wall clock decides
(read in a helper, through an alias)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df
from tests.testing.buggy.support import in_business_hours

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"call_back": [{"phone": "+100"}]}


@app.activity
def schedule_call(request: dict[str, Any]) -> str:
    """Book a call-back slot."""
    return f"call {request['phone']}"


@app.orchestrator
def call_back(ctx: df.OrchestrationContext, request: dict[str, Any]) -> Any:
    """Book a call-back now in business hours, else after a night's wait."""
    if not in_business_hours():
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=12))
    return (yield ctx.call_activity(schedule_call, request))
