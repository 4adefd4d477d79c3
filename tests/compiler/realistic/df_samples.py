"""Durable Functions Python samples, ported to durableflow as their users write them."""

from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = {
    "hello_cities": [["Tokyo", "Seattle", "London"], []],
    "backup_site_content": ["/var/www", None],
    "monitor_job": [{"id": "job-1", "interval_minutes": 30, "expiry_hours": 2}],
    "approve_request": [{"id": "r-1", "amount": 1250.5, "approver": "ops"}],
    "counter": [{"count": 0, "max": 3}, {"count": 5, "max": 3}],
}


@app.orchestrator
def hello_cities(ctx: df.OrchestrationContext, cities):
    greetings = []
    for city in cities or ["Tokyo"]:
        greetings.append((yield ctx.call_activity("say_hello", city)))
    return greetings


@app.orchestrator
def backup_site_content(ctx: df.OrchestrationContext, root_directory):
    if not root_directory:
        raise ValueError("A directory path is required as an input.")
    files = yield ctx.call_activity("get_file_list", root_directory)
    files = files if isinstance(files, list) else []
    tasks = [ctx.call_activity("copy_file_to_blob", f) for f in files]
    results = yield ctx.task_all(tasks)
    total_bytes = sum(r for r in results if isinstance(r, int))
    return {"files": len(files), "bytes": total_bytes}


@app.orchestrator
def monitor_job(ctx: df.OrchestrationContext, job):
    expiry = ctx.current_utc_datetime + timedelta(hours=job["expiry_hours"])
    polls = 0
    while ctx.current_utc_datetime < expiry:
        status = yield ctx.call_activity("get_job_status", job["id"])
        polls += 1
        if status == "done" or status is True:
            yield ctx.call_activity("send_alert", f"Job {job['id']} finished after {polls} polls")
            break
        next_check = ctx.current_utc_datetime + timedelta(minutes=job["interval_minutes"])
        yield ctx.create_timer(next_check)
    else_message = "expired" if polls else "never polled"
    return {"polls": polls, "note": else_message}


@app.orchestrator
def approve_request(ctx: df.OrchestrationContext, request):
    ctx.set_custom_status(f"waiting for {request['approver']} ({request['amount']:.2f} EUR)")
    deadline = ctx.current_utc_datetime + timedelta(hours=72)
    approval = ctx.wait_for_external_event("ApprovalEvent")
    timeout = ctx.create_timer(deadline)
    winner = yield ctx.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        decision = approval.get_result()
        yield ctx.call_activity("process_approval", {"id": request["id"], "decision": decision})
        ctx.set_custom_status("approved")
        return "approved"
    yield ctx.call_activity("escalate", request["id"])
    ctx.set_custom_status("escalated")
    return "escalated"


@app.orchestrator
def counter(ctx: df.OrchestrationContext, state):
    if state["count"] >= state["max"]:
        return state["count"]
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=30))
    ctx.continue_as_new({**state, "count": state["count"] + 1})
