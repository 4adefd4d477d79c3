"""Deterministic code that looks like the banned kind: nothing here may be flagged."""

import logging
import random
import uuid
from datetime import datetime, timedelta

import durableflow as df

app = df.App()
log = logging.getLogger(__name__)
LIMITS = {"max": 3}


def choose(rng: random.Random, items):
    return rng.choice(items)


@app.orchestrator
def clean(ctx: df.OrchestrationContext, data):
    key = uuid.uuid5(uuid.NAMESPACE_URL, data["url"])
    rng = random.Random(data["seed"])
    picked = choose(rng, data["items"])
    when = datetime.fromisoformat(data["when"])
    for name in sorted(set(data["names"])):
        yield ctx.call_activity("greet", name)
    for k, v in data["mapping"].items():
        yield ctx.call_activity("put", [k, v])
    if not ctx.is_replaying:
        log.info("picked %s", picked)
    order_id = ctx.new_uuid()
    tasks = [ctx.call_activity("work", x) for x in range(LIMITS["max"])]
    results = yield ctx.task_all(tasks)
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=5))
    while True:
        status = yield ctx.call_activity("check", str(key))
        if status == "done":
            break
    return {"results": results, "id": order_id, "when": when.isoformat()}
