"""dapr workflows: decorator, annotation and register_workflow registrations."""

import logging
import uuid
from datetime import timedelta

import dapr.ext.workflow as wf
from dapr.ext.workflow import DaprWorkflowContext, RetryPolicy, WorkflowActivityContext

wfr = wf.WorkflowRuntime()
logger = logging.getLogger(__name__)
retry_policy = RetryPolicy(
    first_retry_interval=timedelta(seconds=1),
    max_number_of_attempts=3,
    backoff_coefficient=2,
)


@wfr.workflow(name="order_processing")
def order_processing_workflow(ctx: DaprWorkflowContext, order: dict):
    order_id = str(uuid.uuid4())  # expect: DUR002
    logger.info("processing %s", order_id)  # expect: DUR012
    if not ctx.is_replaying:
        logger.info("guarded line is fine")
    approved = yield ctx.call_activity(verify_inventory, input=order, retry_policy=retry_policy)
    if not approved:
        return {"status": "rejected"}
    yield ctx.call_child_workflow(shipping_workflow, input=order)
    return {"status": "shipped", "id": order_id}


@wfr.workflow
def shipping_workflow(ctx: DaprWorkflowContext, order: dict):
    parcels = [ctx.call_activity(ship_parcel, input=p) for p in order["parcels"]]
    done = yield wf.when_all(parcels)
    return len(done)


def monitor_workflow(ctx: DaprWorkflowContext, job: dict):
    status = yield ctx.call_activity(check_status, input=job)
    if status != "healthy":
        yield ctx.call_activity(send_alert, input=job)
    yield ctx.create_timer(fire_at=ctx.current_utc_datetime + timedelta(minutes=5))
    ctx.continue_as_new(job)


def eternal(ctx, counter: int):
    seen = {counter, counter + 1}
    for item in seen:  # expect: DUR013
        yield ctx.call_activity(send_alert, input=item)
    ctx.continue_as_new(counter + 1)


wfr.register_workflow(eternal, name="eternal_counter")


@wfr.activity(name="verify_inventory")
def verify_inventory(ctx: WorkflowActivityContext, order: dict) -> bool:
    logger.info("activities may log: %s", uuid.uuid4())
    return True


@wfr.activity
def ship_parcel(ctx: WorkflowActivityContext, parcel: dict) -> str:
    return parcel["id"]


@wfr.activity
def check_status(ctx: WorkflowActivityContext, job: dict) -> str:
    return "healthy"


@wfr.activity
def send_alert(ctx: WorkflowActivityContext, job: object) -> None:
    logger.warning("alert %s", job)
