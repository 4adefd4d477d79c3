"""Fuzz reports: a readable timeline of the minimal failing history, and a saved copy that
``durable replay HISTORY.json --app module:app`` re-runs to the same failure.

The saved file is a history document (``durableflow.history/1``) with one more key,
``"fuzz"``: the property that broke, the orchestrator's input, and the decisions of the run
(the tape) and of its injections, so the same run can be simulated again. ``durable replay``
sees that key and re-checks the property instead of plain replay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from durableflow.core import history as h
from durableflow.core.history import HistoryDocument, HistoryEvent
from durableflow.testing.properties import Violation, describe
from durableflow.testing.world import T0, SimRun

__all__ = ["FuzzReport", "decode_tape", "encode_tape", "timeline"]


def _offset(when: datetime) -> str:
    seconds = int((when - T0).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"T{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _detail(event: HistoryEvent) -> str:
    if isinstance(event, h.ExecutionStarted):
        return f"input={event.input!r}"
    if isinstance(event, h.TaskCompleted | h.SubOrchestrationInstanceCompleted):
        return f"task {event.task_id} -> {event.result!r}"
    if isinstance(event, h.TaskFailed | h.SubOrchestrationInstanceFailed):
        return f"task {event.task_id} failed: {event.failure.error_type}"
    if isinstance(event, h.TimerFired):
        return f"timer {event.task_id}"
    if isinstance(event, h.EventRaised):
        return f"{event.name} = {event.input!r}"
    if isinstance(event, h.TaskScheduled | h.TimerCreated | h.SubOrchestrationInstanceCreated):
        return f"[{event.task_id}] {describe(event)}"
    if isinstance(event, h.ExecutionCompleted | h.ExecutionFailed):
        return describe(event)
    return ""


def _short(where: str | None) -> str:
    if not where:
        return ""
    path, _, line = where.rpartition(":")
    cwd = str(Path.cwd()) + "/"
    return f"{path.removeprefix(cwd)}:{line}"


def timeline(history: Sequence[HistoryEvent], wheres: dict[int, str | None]) -> str:
    """One line per event: sequence number, event, virtual time, what, source line."""
    rows = []
    for seq, event in enumerate(history):
        task_id = getattr(event, "task_id", None)
        where = wheres.get(task_id) if isinstance(task_id, int) else None
        rows.append(
            f"{seq:>4}  {event.TYPE:<34} {_offset(event.timestamp):<12} "
            f"{_detail(event)[:60]:<60} {_short(where)}".rstrip()
        )
    header = f"{'seq':>4}  {'event':<34} {'time':<12} {'detail':<60} line"
    return "\n".join([header, *rows])


def encode_tape(tape: Sequence[tuple[str, Any]]) -> list[Any]:
    """A run's decisions as JSON (datetimes tagged)."""

    def enc(value: Any) -> Any:
        if isinstance(value, datetime):
            return {"$time": value.isoformat()}
        if isinstance(value, tuple | list):
            return [enc(v) for v in value]
        if isinstance(value, h.FailureDetails):
            return {"$failure": [value.error_type, value.message]}
        return value

    return [[method, enc(answer)] for method, answer in tape]


def decode_tape(data: Sequence[Any]) -> list[tuple[str, Any]]:
    """The inverse of :func:`encode_tape`."""

    def dec(value: Any) -> Any:
        if isinstance(value, dict) and "$time" in value:
            return datetime.fromisoformat(value["$time"])
        if isinstance(value, dict) and "$failure" in value:
            return h.FailureDetails(*value["$failure"])
        if isinstance(value, list):
            return [dec(v) for v in value]
        return value

    out = []
    for method, answer in data:
        value = dec(answer)
        if method in ("outcome", "rerun"):
            value = (bool(value[0]), value[1])
        out.append((str(method), value))
    return out


@dataclass
class FuzzReport:
    """A property that broke on a (shrunk) fuzzed run.

    Attributes:
        name: the orchestrator.
        violation: which property, what, cause, fix, line.
        run: the run that shows it (the injected one for crash equivalence).
        clean: the run without injections (its tape reproduces the outcomes).
        input: the orchestrator's input.
        injections: the crash/duplicate/lease decisions, when there were any.
        saved: where the history was saved, once it is.
        notes: anything else the reader should know (e.g. it could not be shrunk).
        settings: what re-running it needs (step budget, event names).
        app_ref: ``module:attribute`` of the app, when known.
    """

    name: str
    violation: Violation
    run: SimRun
    clean: SimRun
    input: Any
    injections: list[tuple[str, Any]] = field(default_factory=list)
    saved: Path | None = None
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    app_ref: str | None = None

    def text(self) -> str:
        """The whole report for people: property, three-part message, timeline."""
        lines = [
            f"durable fuzz: {self.name}: property {self.violation.property!r} failed",
            self.violation.message(),
            "",
            f"minimal history ({len(self.run.history)} events, input {self.input!r}):",
            timeline(self.run.history, self.run.wheres),
        ]
        if self.run.crashes:
            lines.append(f"crashes injected before steps: {self.run.crashes}")
        lines += [f"note: {note}" for note in self.notes]
        if self.saved is not None:
            lines += [
                "",
                f"saved: {self.saved}",
                f"re-run: durable replay {self.saved} --app {self.app_ref or 'MODULE:APP'}",
            ]
        return "\n".join(lines)

    def document(self) -> dict[str, Any]:
        """The saved form: a history document plus the ``fuzz`` section."""
        doc: dict[str, Any] = json.loads(
            HistoryDocument(
                self.run.history[1].instance_id
                if isinstance(self.run.history[1], h.ExecutionStarted)
                else "fuzzed",
                self.name,
                list(self.run.history),
            ).to_json()
        )
        doc["fuzz"] = {
            "property": self.violation.property,
            "message": self.violation.message(),
            "input": self.input,
            "tape": encode_tape(self.clean.tape),
            "injections": encode_tape(self.injections),
            "settings": self.settings,
            "app": self.app_ref,
        }
        return doc

    def save(self, folder: Path) -> Path:
        """Write the history JSON into ``folder``; returns the path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}-{self.violation.property}.json"
        path.write_text(json.dumps(self.document(), indent=2, sort_keys=True) + "\n")
        self.saved = path
        return path
