"""Order workflows (durableflow style), with aliases and helpers in other modules."""

import logging
import uuid as u
from datetime import datetime as dt
from datetime import timedelta, timezone

import durableflow as df
from shop import pricing, steps
from shop.pricing import apply_discount as discount

app = df.App()
log = logging.getLogger(__name__)


@app.activity
def charge(order):
    # Activities may do anything: they run once and their result is recorded.
    log.info("charging %s at %s", order["id"], dt.now())
    return {"charged": order["total"], "at": dt.now(timezone.utc).isoformat()}


def _label(order):
    return f"{order['id']}-{dt.utcnow():%Y%m%d}"  # expect: DUR001


@app.orchestrator(name="place_order")
def place_order(ctx: df.OrchestrationContext, order):
    order_id = u.uuid4()  # expect: DUR002
    placed_at = dt.now(timezone.utc)  # expect: DUR001
    audit_at = dt.now()  # noqa: DUR001
    total = pricing.total_of(order)
    total = discount(total, order)
    log.info("placing %s", order_id)  # expect: DUR012
    if not ctx.is_replaying:
        log.info("placed %s at %s", order_id, placed_at)
    ctx.logger.info("label %s", _label(order))
    print("debug", audit_at)  # durable-lint: ignore[DUR012]
    receipt = yield ctx.call_activity(charge, {"id": str(order_id), "total": total})
    preview = charge({"id": "preview", "total": total})  # expect: DUR016
    ctx.call_activity("notify", receipt)  # expect: DUR015
    deadline = ctx.current_utc_datetime + timedelta(days=1)
    yield ctx.create_timer(deadline)
    tracking = yield from steps.ship(ctx, order)
    return receipt, tracking, preview
