"""Where ``durable``'s log records go: standard error, at the level ``-v``/``-q`` choose."""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["RecordFormatter", "configure_logging", "level_for"]

_ORCHESTRATION_LOGGERS = "durableflow.orchestration."


class RecordFormatter(logging.Formatter):
    """``time LEVEL logger: message``; records of ``ctx.logger`` also show their instance."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        instance = getattr(record, "instance_id", None)
        if instance is not None and record.name.startswith(_ORCHESTRATION_LOGGERS):
            head, sep, message = text.partition(": ")
            return f"{head}{sep}[{instance}] {message}"
        return text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record arrives, not when the handler was
    made (``main`` may run many times in one process, as in tests that swap stderr)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def level_for(base: str, verbose: int, quiet: int) -> int:
    """The level ``base`` moved one step down per ``-v`` and one step up per ``-q``."""
    level = logging.getLevelName(base) - 10 * verbose + 10 * quiet
    return int(min(max(level, logging.DEBUG), logging.CRITICAL))


def configure_logging(level: int) -> None:
    """Send ``durableflow.*`` records at ``level`` and above to standard error, once."""
    root = logging.getLogger("durableflow")
    root.setLevel(level)
    if not any(getattr(hd, "_durable_cli", False) for hd in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(RecordFormatter())
        handler._durable_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
