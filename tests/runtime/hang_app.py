"""An app for shutdown tests: activity ``stuck`` hangs on its first run and returns on later
ones; each run appends a line to the file named by its input, so a test sees it started."""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import durableflow as df

app = df.App()


@app.activity
def stuck(marker: str) -> str:
    path = Path(marker)
    runs = path.read_text().count("\n") if path.exists() else 0
    with path.open("a") as f:
        f.write("run\n")
    if runs == 0:
        threading.Event().wait()  # hangs until the process ends
    return f"run {runs + 1}"


@app.orchestrator
def calls_stuck(ctx: df.OrchestrationContext, marker: str) -> Generator[Any, Any, Any]:
    return (yield ctx.call_activity(stuck, marker))
