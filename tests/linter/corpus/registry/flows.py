"""Workflow bodies with no marker of their own: registered by registry.worker and registry.app."""

import os
import random
from datetime import datetime


def fulfil(ctx, order):
    warehouse = os.environ["WAREHOUSE"]  # expect: DUR010
    picked = yield ctx.call_activity("pick", input={"order": order, "at": warehouse})
    return picked


def refund(ctx, claim):
    if random.choice([True, False]):  # expect: DUR003
        yield ctx.call_activity("refund_card", input=claim)
    return claim


def approve(context):
    request = context.get_input()
    stamp = datetime.utcnow()  # expect: DUR001
    decision = yield context.wait_for_external_event("decision")
    return {"request": request, "decision": decision, "at": stamp.isoformat()}


def not_registered(ctx, value):
    return random.random() + value
