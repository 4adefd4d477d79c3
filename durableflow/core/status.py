"""Runtime status of an orchestration instance."""

from __future__ import annotations

import enum


class RuntimeStatus(enum.Enum):
    """Lifecycle state of an orchestration instance, as Durable Functions names them."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"
    CONTINUED_AS_NEW = "CONTINUED_AS_NEW"

    @property
    def is_terminal(self) -> bool:
        """True when the instance will never run again (a new start may reuse its id)."""
        return self in _TERMINAL


_TERMINAL = frozenset({RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED})
