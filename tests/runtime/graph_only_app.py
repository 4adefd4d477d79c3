"""An App with activities only: its orchestrators come from compiled graphs (--graphs)."""

from __future__ import annotations

import durableflow as df

app = df.App()


@app.activity
def process(item: int) -> int:
    """Same activity as examples.fan_out_fan_in."""
    return item * 2


@app.activity
def report(total: int) -> str:
    """Same activity as examples.fan_out_fan_in."""
    return f"total={total}"
