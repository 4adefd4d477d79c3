"""task_any of an event and a timer, cancel, get_result; an event with a timeout."""
from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = [{"hours": 1}, {"hours": 72}]


@app.orchestrator
def race(ctx: df.OrchestrationContext, request):
    deadline = ctx.current_utc_datetime + timedelta(hours=request["hours"])
    timeout = ctx.create_timer(deadline)
    approval = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        decision = approval.get_result()
    else:
        decision = "timed out"
    try:
        extra = yield ctx.wait_for_external_event("Extra", timeout=timedelta(minutes=5))
    except df.EventTimeoutError:
        extra = None
    either = yield ctx.task_any([ctx.call_activity("fast", 1), ctx.create_timer(timedelta(seconds=30))])
    later = ctx.call_activity("later", decision)
    pending = [ctx.wait_for_external_event("Approval"), ctx.create_timer(timedelta(hours=1))]
    first = yield ctx.task_any(pending)
    late = yield later
    return {"decision": decision, "extra": extra, "fast_won": either.is_complete, "late": late,
            "first": first == pending[0]}
