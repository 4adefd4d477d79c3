"""Reusable orchestration steps: generators the orchestrators delegate to with `yield from`."""

import random


def ship(ctx, order):
    carrier = random.choice(["dhl", "ups"])  # expect: DUR003
    tracking = yield ctx.call_activity("ship", {"order": order, "carrier": carrier})
    yield ctx.call_activity("notify_shipped", tracking)
    return tracking
