"""Patterns at the edge of the compiled subset, some of them outside it on purpose."""

from datetime import timedelta

import durableflow as df

app = df.App()

INPUTS = {
    "collect_votes": [{"needed": 2, "voters": ["ann", "bob", "cy"]}],
    "ship_order": [{"id": "o-1", "express": True}, {"id": "o-2", "express": False}],
    "pick_carrier": [{"id": "o-3", "express": True}],
    "audited_step": [{"step": "migrate", "dry_run": False}],
    "charge_with_helper": [{"id": "o-4", "amount": 10}],
    "stats_pipeline": [{"samples": [3, 1, 2]}, {"samples": []}],
    "due_date_reminder": [{"due": "2026-12-24T10:00:00+00:00"}],
    "fleet_rollout": [{"devices": ["d1", "d2"], "wave_size": 1}],
}

SHIPPING = "ship_standard"


@app.orchestrator
def collect_votes(ctx: df.OrchestrationContext, poll):
    voters = []
    while len(voters) < poll["needed"]:
        vote = yield ctx.wait_for_external_event("vote")
        voter = vote if isinstance(vote, str) else str(vote)
        if voter not in voters:
            voters.append(voter)
            ctx.set_custom_status({"votes": len(voters), "needed": poll["needed"]})
    return sorted(voters)


@app.orchestrator
def ship_order(ctx: df.OrchestrationContext, order):
    activity = "ship_express"
    if order["express"]:
        return (yield ctx.call_activity(activity, order["id"]))
    return (yield ctx.call_activity(SHIPPING, order["id"]))


@app.orchestrator
def pick_carrier(ctx: df.OrchestrationContext, order):
    activity = "ship_express" if order["express"] else "ship_standard"
    return (yield ctx.call_activity(activity, order["id"]))


@app.orchestrator
def audited_step(ctx: df.OrchestrationContext, job):
    ctx.set_custom_status("running")
    outcome = "unknown"
    try:
        if job["dry_run"]:
            outcome = "skipped"
        else:
            outcome = yield ctx.call_activity("run_step", job)
    finally:
        ctx.set_custom_status({"step": job["step"], "outcome": outcome})
        ctx.logger.info("step %s finished", job["step"])
    return outcome


def charge_steps(context, order, attempts=2):
    receipt = None
    for attempt in range(attempts):
        receipt = yield context.call_activity("charge", order)
        if receipt:
            break
    if not receipt:
        return None
    yield context.call_activity("email_receipt", receipt)
    return receipt


@app.orchestrator
def charge_with_helper(ctx: df.OrchestrationContext, order):
    attempt = "caller's"
    receipt = yield from charge_steps(ctx, order)
    again = yield from charge_steps(ctx, order, attempts=1)
    return [receipt, again, attempt]


@app.orchestrator
def stats_pipeline(ctx: df.OrchestrationContext, job):
    samples = job["samples"]
    if not samples:
        return {"count": 0}
    normalised = yield ctx.call_activity("normalise", samples)
    values = normalised if isinstance(normalised, list) else samples
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    stats = {
        "count": len(numbers),
        "min": min(numbers, default=None),
        "max": max(numbers, default=None),
        "ranked": [f"{i + 1}:{v}" for i, v in enumerate(sorted(numbers))],
    }
    yield ctx.call_activity("store_stats", stats)
    return stats


@app.orchestrator
def due_date_reminder(ctx: df.OrchestrationContext, reminder):
    from datetime import datetime

    due = datetime.fromisoformat(reminder["due"])
    yield ctx.create_timer(due - timedelta(hours=1))
    yield ctx.call_activity("remind", reminder)


@app.orchestrator
def fleet_rollout(ctx: df.OrchestrationContext, plan):
    devices = plan["devices"]
    size = max(plan["wave_size"], 1)
    waves = [devices[i : i + size] for i in range(0, len(devices), size)]
    done = []
    for wave in waves:
        results = yield ctx.task_all(
            [ctx.call_sub_orchestrator("update_device", d, instance_id="upd-" + d) for d in wave]
        )
        failed = [d for d, r in zip(wave, results) if r is False]
        if failed:
            yield ctx.call_activity("halt_rollout", {"failed": failed, "done": done})
            return {"ok": False, "failed": failed}
        done.extend(wave)
    return {"ok": True, "devices": done}
