"""durabletask-python examples and tests, ported to durableflow."""

import json
from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = {
    "fan_out_work_items": [{"count": 3}, {"count": 0}],
    "purchase_approval": [{"order_id": "o-7", "cost": 1200}, {"order_id": "o-8", "cost": 20}],
    "flaky_with_retries": ["payload"],
}


@app.orchestrator
def fan_out_work_items(ctx: df.OrchestrationContext, config):
    work_items = yield ctx.call_activity("get_work_items", config["count"])
    if not isinstance(work_items, list):
        work_items = [work_items]
    tasks = []
    for item in work_items:
        tasks.append(ctx.call_activity("process_work_item", item))
    results = yield ctx.task_all(tasks)
    summary = json.dumps({"items": len(results), "results": results}, sort_keys=True)
    return json.loads(summary)


@app.orchestrator
def purchase_approval(ctx: df.OrchestrationContext, order):
    if order["cost"] < 1000:
        return "Auto-approved"
    yield ctx.call_activity("send_approval_request", order)
    approval_event = ctx.wait_for_external_event("approval_received")
    timeout_event = ctx.create_timer(timedelta(hours=24))
    winner = yield ctx.task_any([approval_event, timeout_event])
    if winner == timeout_event:
        return "Cancelled"
    approved_by = approval_event.get_result()
    yield ctx.call_activity("place_order", order)
    return f"Approved by '{approved_by}'"


@app.orchestrator
def flaky_with_retries(ctx: df.OrchestrationContext, payload):
    retry = df.RetryPolicy(
        first_interval=timedelta(seconds=1), max_attempts=3, backoff_coefficient=2.0
    )
    try:
        first = yield ctx.call_activity("flaky", payload, retry=retry)
        second = yield ctx.call_activity("flaky", first, retry=retry)
    except df.TaskFailedError as err:
        return {"ok": False, "error": err.error_type}
    return {"ok": True, "values": [first, second]}
