"""Monitor: poll an external job on a durable timer until it finishes or the watch expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {
    "job_monitor": [{"id": "j", "expiry_hours": 2, "interval_minutes": 30}]
}

# The "external system" the monitor watches: job id -> polls before it reports done.
# Activities may touch the outside world; orchestrators may not.
JOB_POLLS_UNTIL_DONE: dict[str, int] = {}


@app.activity
def check_job(job_id: str) -> str:
    """Ask the external system for the job's state."""
    left = JOB_POLLS_UNTIL_DONE.get(job_id, 0)
    JOB_POLLS_UNTIL_DONE[job_id] = left - 1
    return "done" if left <= 0 else "running"


@app.activity
def send_alert(message: str) -> str:
    """Tell someone."""
    return message


@app.orchestrator
def job_monitor(ctx: df.OrchestrationContext, job: dict[str, Any]) -> Any:
    """Poll every ``interval_minutes`` until the job is done or ``expiry_hours`` pass."""
    expiry = ctx.current_utc_datetime + timedelta(hours=job["expiry_hours"])
    polls = 0
    while ctx.current_utc_datetime < expiry:
        state = yield ctx.call_activity(check_job, job["id"])
        polls += 1
        if state == "done":
            yield ctx.call_activity(send_alert, f"job {job['id']} finished")
            return {"status": "done", "polls": polls}
        next_check = ctx.current_utc_datetime + timedelta(minutes=job["interval_minutes"])
        yield ctx.create_timer(next_check)
    yield ctx.call_activity(send_alert, f"job {job['id']} timed out")
    return {"status": "expired", "polls": polls}


def main(store: str = "sqlite:///demo-out/monitor.db") -> Any:
    """Watch a job that finishes on its fourth poll; a fake clock skips the 5-minute waits."""
    from durableflow.testing.drive import drive_to_completion

    JOB_POLLS_UNTIL_DONE["job-42"] = 3
    with df.Runtime(app, store, clock=df.FakeClock()) as rt:
        iid = rt.client.start_new(
            job_monitor, input={"id": "job-42", "interval_minutes": 5, "expiry_hours": 1}
        )
        return drive_to_completion(rt, iid).output


if __name__ == "__main__":
    print(main())
