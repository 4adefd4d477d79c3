"""Bug: the reply is raced against a reminder timer that is never cancelled when the reply
wins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()


@app.orchestrator
def await_reply(ctx: df.OrchestrationContext, _: Any) -> Any:
    """Wait a day for the customer's reply."""
    deadline = ctx.create_timer(ctx.current_utc_datetime + timedelta(days=1))
    reply = ctx.wait_for_external_event("Reply")
    winner = yield ctx.task_any([reply, deadline])
    if winner == reply:
        return reply.get_result()
    return None
