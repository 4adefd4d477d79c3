"""Bug: the tracking loop waits for "delivered" and nothing else; a parcel that is lost
or returned is polled forever."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {"track_parcel": ["P-1"]}


@app.activity
def carrier_status(parcel: str) -> str:
    """Ask the carrier where the parcel is."""
    return "delivered"


@app.orchestrator
def track_parcel(ctx: df.OrchestrationContext, parcel: str) -> Any:
    """Poll the carrier every hour until the parcel is delivered."""
    status = yield ctx.call_activity(carrier_status, parcel)
    while status != "delivered":
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        status = yield ctx.call_activity(carrier_status, parcel)
    return status
