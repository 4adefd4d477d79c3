"""An app with one orchestrator per condition under which its replay breaks, and a clean one."""

from __future__ import annotations

from typing import Any

import durableflow as df
from tests.testing.process_apps import helpers
from tests.testing.process_apps.helpers import assign_reviewer as reviewer_for
from tests.testing.process_apps.helpers import next_batch_id as new_batch

app = df.App()


@app.activity
def deploy(region: str) -> str:
    """Pretend to deploy to ``region``."""
    return f"deployed {region}"


@app.activity
def notify(message: dict[str, Any]) -> bool:
    """Pretend to send ``message``."""
    return True


@app.orchestrator
def rollout(ctx: df.OrchestrationContext, spec: dict[str, Any]) -> Any:
    """Deploy region by region: to all of them, or to the ones ``spec`` lists."""
    regions = helpers.regions_to_deploy() if spec.get("all") else spec["regions"]
    done = []
    for region in regions:
        done.append((yield ctx.call_activity(deploy, region)))
    return done


@app.orchestrator
def escalate(ctx: df.OrchestrationContext, incident: str) -> Any:
    """Page the on-call engineer in business hours, e-mail the team otherwise."""
    yield ctx.call_activity(notify, {"to": "log", "incident": incident})
    if helpers.in_business_hours():
        yield ctx.call_activity(notify, {"to": "on-call", "incident": incident})
    else:
        yield ctx.call_activity(notify, {"to": "team", "incident": incident})
    return "escalated"


@app.orchestrator
def review(ctx: df.OrchestrationContext, docs: list[str]) -> Any:
    """Send each document to a reviewer."""
    for doc in docs:
        yield ctx.call_activity(notify, {"doc": doc, "reviewer": reviewer_for()})
    return len(docs)


@app.orchestrator
def batches(ctx: df.OrchestrationContext, items: list[int]) -> Any:
    """Notify once per batch, numbered by a counter kept across runs."""
    for item in items:
        yield ctx.call_activity(notify, {"batch": new_batch(), "item": item})
    return len(items)


@app.orchestrator
def steady(ctx: df.OrchestrationContext, items: list[str]) -> Any:
    """Everything it does depends on its input and on ctx alone."""
    out = []
    for item in sorted(set(items)):
        out.append((yield ctx.call_activity(deploy, item)))
    yield ctx.call_activity(notify, {"at": ctx.current_utc_datetime.isoformat()})
    return out
