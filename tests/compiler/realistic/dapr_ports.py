"""dapr workflow examples (order processing, chaining, fan-out, monitor), ported."""

from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = {
    "order_processing": [
        {"id": "o-1", "item": "cars", "quantity": 2, "total": 6000},
        {"id": "o-2", "item": "paperclips", "quantity": 10, "total": 5},
    ],
    "task_chain": [["  dapr ", "Workflow", "python"]],
    "fan_out_scores": [{"keys": ["a", "b", "c"]}],
}

RETRY = df.RetryPolicy(first_interval=timedelta(seconds=1), max_attempts=3)
APPROVAL_LIMIT = 5000


@app.orchestrator
def order_processing(ctx: df.OrchestrationContext, order):
    if not ctx.is_replaying:
        print(f"Received order {order['id']} for {order['quantity']} {order['item']}")
    yield ctx.call_activity("notify", f"Received order {order['id']}")
    available = yield ctx.call_activity("verify_inventory", order, retry=RETRY)
    if available is False:
        yield ctx.call_activity("notify", "Insufficient inventory")
        return {"processed": False}
    if order["total"] > APPROVAL_LIMIT:
        yield ctx.call_activity("request_approval", order)
        try:
            approval = yield ctx.wait_for_external_event(
                "approval_event", timeout=timedelta(hours=24)
            )
        except df.EventTimeoutError:
            return {"processed": False, "reason": "approval timed out"}
        if not approval:
            return {"processed": False, "reason": "rejected"}
    yield ctx.call_activity("process_payment", order, retry=RETRY)
    yield ctx.call_activity("update_inventory", order)
    yield ctx.call_activity("notify", f"Order {order['id']} completed")
    return {"processed": True}


@app.orchestrator
def task_chain(ctx: df.OrchestrationContext, words):
    cleaned = [w.strip().lower() for w in words]
    first = yield ctx.call_activity("step1", cleaned[0].upper())
    second = yield ctx.call_activity("step2", f"{first}-{cleaned[1].title()}")
    third = yield ctx.call_activity("step3", str(second).replace(" ", "_"))
    return "-".join(str(part) for part in [first, second, third])


@app.orchestrator
def fan_out_scores(ctx: df.OrchestrationContext, config):
    keys = config["keys"]
    scores = yield ctx.task_all([ctx.call_activity("score", k) for k in keys])
    by_key = {k: s for k, s in zip(keys, scores) if isinstance(s, int)}
    best = max(by_key.values(), default=0)
    return {"scores": by_key, "best": best, "winners": [k for k in keys if by_key.get(k) == best]}
