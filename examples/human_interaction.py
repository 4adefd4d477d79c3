"""Human interaction: wait for an approval event, raced against a 72-hour durable timer.

If nobody approves within 72 hours, the request is escalated. The demo drives a fake clock,
so both paths run in a moment; in production the same code waits three real days and
survives restarts while it does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {
    "approval_workflow": [{"id": "r1", "approver": "bo", "manager": "cy"}]
}


@app.activity
def request_approval(request: dict[str, Any]) -> str:
    """Notify the approver (e-mail, chat...)."""
    return f"asked {request['approver']}"


@app.activity
def process_approval(decision: Any) -> str:
    """Act on the decision."""
    return f"processed {decision}"


@app.activity
def escalate(request: dict[str, Any]) -> str:
    """Nobody answered: escalate to the manager."""
    return f"escalated {request['id']} to {request['manager']}"


@app.orchestrator
def approval_workflow(ctx: df.OrchestrationContext, request: dict[str, Any]) -> Any:
    """Ask for approval; act on it, or escalate after 72 hours without an answer."""
    yield ctx.call_activity(request_approval, request)
    deadline = ctx.current_utc_datetime + timedelta(hours=72)
    timeout = ctx.create_timer(deadline)
    approval = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        result = yield ctx.call_activity(process_approval, approval.get_result())
        return {"outcome": "approved", "detail": result}
    result = yield ctx.call_activity(escalate, request)
    return {"outcome": "escalated", "detail": result}


def run_once(rt: df.Runtime, approve: bool) -> Any:
    """Start one request; approve it at once, or let the 72 hours run out."""
    from durableflow.testing.drive import drive_to_completion

    iid = rt.client.start_new(
        approval_workflow,
        input={"id": f"req-{'ok' if approve else 'late'}", "approver": "bo", "manager": "cy"},
    )
    if approve:
        rt.client.raise_event(iid, "Approval", "yes")
        return rt.client.wait_for_completion(iid, timeout=30).output
    return drive_to_completion(rt, iid).output


def main(store: str = "sqlite:///demo-out/human_interaction.db") -> Any:
    """Run both paths on a fake clock: approved in time, and escalated after 72 hours."""
    with df.Runtime(app, store, clock=df.FakeClock()) as rt:
        return {
            "approved": run_once(rt, approve=True),
            "timed_out": run_once(rt, approve=False),
        }


if __name__ == "__main__":
    print(main())
