"""Retry policies for activities and sub-orchestrations.

Delays are computed from orchestration time only and waited with durable timers, so a retry
survives crashes and replays identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from durableflow.core.errors import TaskFailedError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry a failed durable task.

    Attributes:
        first_interval: delay before the second attempt.
        backoff_coefficient: each further delay is the previous one times this.
        max_interval: cap on any single delay (``None``: no cap).
        max_attempts: total attempts including the first.
        timeout: give up when this much orchestration time has passed since the first
            attempt was scheduled (``None``: no limit).
        handle: predicate on the failure; return False to stop retrying (``None``: retry all).
    """

    first_interval: timedelta
    max_attempts: int
    backoff_coefficient: float = 1.0
    max_interval: timedelta | None = None
    timeout: timedelta | None = None
    handle: Callable[[TaskFailedError], bool] | None = None

    def __post_init__(self) -> None:
        if self.first_interval <= timedelta(0):
            raise ValueError("RetryPolicy.first_interval must be positive")
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.backoff_coefficient < 1.0:
            raise ValueError("RetryPolicy.backoff_coefficient must be at least 1.0")

    def delay(self, attempt: int) -> timedelta:
        """Delay to wait after failed attempt number ``attempt`` (1-based)."""
        seconds = self.first_interval.total_seconds() * self.backoff_coefficient ** (attempt - 1)
        delay = timedelta(seconds=seconds)
        if self.max_interval is not None and delay > self.max_interval:
            delay = self.max_interval
        return delay
