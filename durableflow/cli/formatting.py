"""How ``durable`` shows instances to people: aligned tables and ``key: value`` lines.

Scripts should use ``--json``; these forms are for reading and may change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durableflow.runtime.client import OrchestrationState

__all__ = ["instance_table", "status_lines", "table"]

_LIST_HEADER = ("INSTANCE ID", "NAME", "STATUS", "CREATED")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a left-aligned table, two spaces between columns, no trailing blanks."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def instance_table(states: Sequence[OrchestrationState]) -> list[str]:
    """``durable list``'s table: a header row, then one row per instance."""
    rows = [
        (s.instance_id, s.name, s.runtime_status.value, s.created_at.isoformat(" ", "seconds"))
        for s in states
    ]
    return table(_LIST_HEADER, rows)


def status_lines(state: OrchestrationState) -> list[str]:
    """``durable status``'s ``key: value`` lines (values other than text as JSON)."""
    pairs: list[tuple[str, str]] = [
        ("instance_id", state.instance_id),
        ("name", state.name),
        ("runtime_status", state.runtime_status.value),
        ("created_at", state.created_at.isoformat()),
        ("last_updated_at", state.last_updated_at.isoformat()),
        ("input", _json(state.input)),
        ("output", _json(state.output)),
        ("custom_status", _json(state.custom_status)),
    ]
    trace: list[str] = []
    if state.failure is not None:
        pairs.append(("failure", f"{state.failure.error_type}: {state.failure.message}"))
        trace = (state.failure.stack_trace or "").rstrip().splitlines()
    width = max(len(key) for key, _ in pairs) + 2
    lines = [f"{key + ':':<{width}}{value}" for key, value in pairs]
    lines += [f"  {line}" for line in trace]
    if state.history is not None:
        lines.append("history:")
        lines += [f"  {_event_line(event)}" for event in state.history]
    return lines


def _event_line(event: dict[str, Any]) -> str:
    rest = {k: v for k, v in event.items() if k not in ("type", "timestamp")}
    text = f"{event.get('timestamp', '')}  {event.get('type', '?')}"
    return f"{text}  {_json(rest)}" if rest else text


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
