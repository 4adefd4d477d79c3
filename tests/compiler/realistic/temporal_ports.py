"""Temporal Python samples, rewritten as durableflow orchestrators."""

from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = {
    "money_transfer": [{"from": "acc-1", "to": "acc-2", "amount": 250, "ref": "t-9"}],
    "book_vacation": [{"name": "Ada", "hotel": "H1", "flight": "F1", "car": "C1"}],
    "compensate_in_reverse": [{"steps": ["book_hotel", "book_flight"]}],
    "poll_until_ready": [{"resource": "r-1", "max_attempts": 4}],
    "parent_with_children": [{"regions": ["eu", "us", "ap"]}],
}


@app.orchestrator
def money_transfer(ctx: df.OrchestrationContext, details):
    status = "started"
    ctx.set_custom_status(status)
    try:
        withdrawn = yield ctx.call_activity("withdraw", details)
        try:
            yield ctx.call_activity("deposit", details)
        except df.TaskFailedError:
            yield ctx.call_activity("refund", details)
            status = "refunded"
            raise
        status = "done"
        result = f"Transfer complete (transaction IDs: {withdrawn}, {details['ref']})"
    except df.TaskFailedError as err:
        status = f"failed: {err.error_message}"
        result = {"error": err.error_type}
    finally:
        ctx.set_custom_status(status)
    return result


@app.orchestrator
def book_vacation(ctx: df.OrchestrationContext, booking):
    done = []
    try:
        hotel = yield ctx.call_activity("book_hotel", booking)
        done.append("hotel")
        flight = yield ctx.call_activity("book_flight", booking)
        done.append("flight")
        car = yield ctx.call_activity("book_car", booking)
        done.append("car")
    except df.TaskFailedError:
        if "car" in done:
            yield ctx.call_activity("undo_book_car", booking)
        if "flight" in done:
            yield ctx.call_activity("undo_book_flight", booking)
        if "hotel" in done:
            yield ctx.call_activity("undo_book_hotel", booking)
        raise
    return {"hotel": hotel, "flight": flight, "car": car}


@app.orchestrator
def compensate_in_reverse(ctx: df.OrchestrationContext, plan):
    compensations = []
    try:
        for step in plan["steps"]:
            yield ctx.call_activity(step, plan)
            compensations.append("undo_" + step)
    except df.TaskFailedError:
        for undo in compensations[::-1]:
            yield ctx.call_activity(undo, plan)
        raise
    return len(compensations)


@app.orchestrator
def poll_until_ready(ctx: df.OrchestrationContext, job):
    for attempt in range(job["max_attempts"]):
        ready = yield ctx.call_activity("is_ready", job["resource"])
        if ready is True or ready == "ok":
            return {"ready": True, "attempts": attempt + 1}
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=2**attempt))
    raise TimeoutError(f"{job['resource']} not ready after {job['max_attempts']} attempts")


@app.orchestrator
def parent_with_children(ctx: df.OrchestrationContext, config):
    children = [
        ctx.call_sub_orchestrator(
            "compose_region", region, instance_id=f"{ctx.instance_id}-{region}"
        )
        for region in config["regions"]
    ]
    results = yield ctx.task_all(children)
    return dict(zip(config["regions"], results))
