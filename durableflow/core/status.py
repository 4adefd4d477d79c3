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
        return self in TERMINAL_STATUSES

    @classmethod
    def parse(cls, value: str | RuntimeStatus) -> RuntimeStatus:
        """The status named ``value``, in any letter case (``"completed"``, ``"Running"``).

        Raises:
            ValueError: no status has that name; the message lists the valid names.
        """
        if isinstance(value, RuntimeStatus):
            return value
        if isinstance(value, str):
            found = cls.__members__.get(value.strip().upper())
            if found is not None:
                return found
        names = ", ".join(cls.__members__)
        raise ValueError(f"unknown runtime status {value!r}; expected one of {names}")


TERMINAL_STATUSES = frozenset(
    {RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED}
)
"""The statuses of instances that will never run again (what can be purged)."""
