"""Orchestrators found by their annotated context parameter."""

from datetime import timedelta

from durableflow import OrchestrationContext as Ctx

APPROVED = 0


def ask(ctx: Ctx, who):
    # not a generator: a helper that builds a task, checked because an orchestrator calls it
    global APPROVED  # expect: DUR009
    APPROVED += 1
    return ctx.wait_for_external_event(f"approval-{who}")


def approval(ctx: Ctx, data):
    while True:  # expect: DUR011
        for who in set(data["approvers"]):  # expect: DUR013
            yield ask(ctx, who)
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))


def escalation(ctx: Ctx, data):
    import json  # expect: DUR014

    payload = json.dumps(data)
    try:
        yield ctx.call_activity("escalate", payload)
    except BaseException:  # expect: DUR015
        return None
