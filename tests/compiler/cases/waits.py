"""Event waits that lose a race, are cancelled and are waited on again; a cancelled timer."""
from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = [None]


@app.orchestrator
def waits(ctx: df.OrchestrationContext, _):
    approval = ctx.wait_for_external_event("Approval")
    reminders = 0
    decision = None
    while reminders < 3:
        timer = ctx.create_timer(timedelta(hours=1))
        winner = yield ctx.task_any([approval, timer])
        if winner == approval:
            timer.cancel()
            decision = approval.get_result()
            break
        reminders += 1
    stale = ctx.wait_for_external_event("Approval")
    stale.cancel()
    again = yield ctx.task_any([ctx.wait_for_external_event("Approval"), ctx.create_timer(timedelta(hours=2))])
    nudge = ctx.create_timer(timedelta(minutes=1))
    nudge.cancel()
    try:
        yield nudge
        cancelled = False
    except df.TimerCancelledError:
        cancelled = True
    return {"reminders": reminders, "decision": decision, "cancelled": cancelled, "again": again.is_complete}
