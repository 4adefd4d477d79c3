"""Bug: notifications go out in the iteration order of a set of strings."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()
FUZZ_INPUTS: dict[str, list[Any]] = {
    "notify_teams": [["billing", "support", "sales", "ops", "legal", "security"]]
}


@app.activity
def notify(team: str) -> str:
    """Post to the team's channel."""
    return f"notified {team}"


@app.orchestrator
def notify_teams(ctx: df.OrchestrationContext, teams: list[str]) -> Any:
    """Tell every team once (duplicates removed)."""
    sent = []
    for team in set(teams):
        sent.append((yield ctx.call_activity(notify, team)))
    return sent
