"""What a worker reports of each orchestration step it runs (for observability and tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StepTrace:
    """One orchestration step as a worker ran it (monotonic nanoseconds, system-wide).

    ``started_ns`` is taken once the lease is held, ``ended_ns`` just before the commit is
    sent: while the lease works, two traces of one instance can never overlap, whatever
    the scheduler does after the commit. ``committed`` is False when the lease was lost.
    """

    instance_id: str
    owner: str
    started_ns: int
    ended_ns: int
    committed: bool
