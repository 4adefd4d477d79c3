"""History events, in the Durable Task vocabulary, and their JSON form.

History is append-only. Every event carries the orchestration time at which it was recorded.
Payload fields hold JSON-compatible values (already normalized by the codec).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from durableflow.core.errors import HistoryFormatError


@dataclass(frozen=True, slots=True)
class FailureDetails:
    """What went wrong in an activity or orchestrator, as text that survives processes."""

    error_type: str
    message: str
    stack_trace: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEvent:
    """Base of every history event."""

    timestamp: datetime
    TYPE: ClassVar[str] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionStarted(HistoryEvent):
    """The first event of every execution."""

    name: str
    instance_id: str
    execution_id: str
    input: Any = None
    parent_instance_id: str | None = None
    parent_task_id: int | None = None
    parent_execution_id: str | None = None
    TYPE: ClassVar[str] = "ExecutionStarted"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestratorStarted(HistoryEvent):
    """Marks the start of one orchestration step; its timestamp is the step's clock."""

    TYPE: ClassVar[str] = "OrchestratorStarted"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskScheduled(HistoryEvent):
    """The orchestrator scheduled activity ``name`` as task ``task_id``."""

    task_id: int
    name: str
    input: Any = None
    TYPE: ClassVar[str] = "TaskScheduled"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCompleted(HistoryEvent):
    """Activity task ``task_id`` returned ``result``."""

    task_id: int
    result: Any = None
    TYPE: ClassVar[str] = "TaskCompleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFailed(HistoryEvent):
    """Activity task ``task_id`` raised."""

    task_id: int
    failure: FailureDetails
    TYPE: ClassVar[str] = "TaskFailed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerCreated(HistoryEvent):
    """The orchestrator created durable timer ``task_id`` due at ``fire_at``."""

    task_id: int
    fire_at: datetime
    TYPE: ClassVar[str] = "TimerCreated"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(HistoryEvent):
    """Durable timer ``task_id`` fired."""

    task_id: int
    fire_at: datetime
    TYPE: ClassVar[str] = "TimerFired"


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRaised(HistoryEvent):
    """External event ``name`` arrived with ``input``."""

    name: str
    input: Any = None
    TYPE: ClassVar[str] = "EventRaised"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubOrchestrationInstanceCreated(HistoryEvent):
    """The orchestrator started sub-orchestration ``name`` as task ``task_id``."""

    task_id: int
    name: str
    instance_id: str
    input: Any = None
    TYPE: ClassVar[str] = "SubOrchestrationInstanceCreated"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubOrchestrationInstanceCompleted(HistoryEvent):
    """Sub-orchestration task ``task_id`` completed with ``result``."""

    task_id: int
    result: Any = None
    TYPE: ClassVar[str] = "SubOrchestrationInstanceCompleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubOrchestrationInstanceFailed(HistoryEvent):
    """Sub-orchestration task ``task_id`` failed."""

    task_id: int
    failure: FailureDetails
    TYPE: ClassVar[str] = "SubOrchestrationInstanceFailed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCompleted(HistoryEvent):
    """The orchestrator returned ``result``."""

    result: Any = None
    TYPE: ClassVar[str] = "ExecutionCompleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionFailed(HistoryEvent):
    """The orchestrator raised (or replay found nondeterminism)."""

    failure: FailureDetails
    TYPE: ClassVar[str] = "ExecutionFailed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionTerminated(HistoryEvent):
    """A client terminated the instance."""

    reason: Any = None
    TYPE: ClassVar[str] = "ExecutionTerminated"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSuspended(HistoryEvent):
    """A client suspended the instance; later events wait until it resumes."""

    reason: Any = None
    TYPE: ClassVar[str] = "ExecutionSuspended"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResumed(HistoryEvent):
    """A client resumed a suspended instance."""

    reason: Any = None
    TYPE: ClassVar[str] = "ExecutionResumed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContinuedAsNew(HistoryEvent):
    """The execution ended by restarting with ``input`` and a fresh history."""

    input: Any = None
    TYPE: ClassVar[str] = "ContinuedAsNew"


EVENT_TYPES: dict[str, type[HistoryEvent]] = {
    cls.TYPE: cls
    for cls in (
        ExecutionStarted,
        OrchestratorStarted,
        TaskScheduled,
        TaskCompleted,
        TaskFailed,
        TimerCreated,
        TimerFired,
        EventRaised,
        SubOrchestrationInstanceCreated,
        SubOrchestrationInstanceCompleted,
        SubOrchestrationInstanceFailed,
        ExecutionCompleted,
        ExecutionFailed,
        ExecutionTerminated,
        ExecutionSuspended,
        ExecutionResumed,
        ContinuedAsNew,
    )
}

_DATETIME_FIELDS = frozenset({"timestamp", "fire_at"})

# Field names per event class, looked up once: dataclasses.fields() is slow on a hot path.
_FIELD_NAMES: dict[type[HistoryEvent], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}
_FIELD_SETS = {cls: frozenset(names) for cls, names in _FIELD_NAMES.items()}


def _field_names(cls: type[HistoryEvent]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:  # a subclass defined elsewhere
        names = tuple(f.name for f in dataclasses.fields(cls))
    return names


def event_to_dict(event: HistoryEvent) -> dict[str, Any]:
    """The JSON-ready form of ``event``: ``{"type": ..., fields...}``, datetimes as ISO text."""
    out: dict[str, Any] = {"type": event.TYPE}
    for name in _field_names(type(event)):
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, FailureDetails):
            value = dataclasses.asdict(value)
        out[name] = value
    return out


def event_from_dict(data: Any, where: str = "history") -> HistoryEvent:
    """Rebuild an event from :func:`event_to_dict` output.

    Raises:
        HistoryFormatError: unknown type, missing or unexpected fields, bad timestamps.
    """
    if not isinstance(data, dict):
        raise HistoryFormatError(f"{where}: expected an object, got {type(data).__name__}")
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise HistoryFormatError(
            f"{where}: unknown event type {kind!r}; expected one of {', '.join(EVENT_TYPES)}"
        )
    names = _FIELD_SETS.get(cls) or frozenset(_field_names(cls))
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "type":
            continue
        if key not in names:
            raise HistoryFormatError(f"{where}: {kind} has no field {key!r}")
        if key in _DATETIME_FIELDS:
            value = _parse_time(value, f"{where}.{key}")
        elif key == "failure":
            if not isinstance(value, dict):
                raise HistoryFormatError(f"{where}.failure: expected an object")
            try:
                value = FailureDetails(**value)
            except TypeError as exc:
                raise HistoryFormatError(f"{where}.failure: {exc}") from None
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise HistoryFormatError(f"{where}: {kind}: {exc}") from None


def _parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise HistoryFormatError(f"{where}: expected an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HistoryFormatError(f"{where}: {value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise HistoryFormatError(f"{where}: {value!r} has no UTC offset")
    return parsed


HISTORY_FORMAT = "durableflow.history/1"


@dataclass(frozen=True, slots=True)
class HistoryDocument:
    """An exported instance history: enough to replay it offline."""

    instance_id: str
    name: str
    events: list[HistoryEvent] = field(default_factory=list)

    def to_json(self) -> str:
        """Stable JSON text (sorted keys, two-space indent)."""
        doc = {
            "format": HISTORY_FORMAT,
            "instance_id": self.instance_id,
            "name": self.name,
            "events": [event_to_dict(e) for e in self.events],
        }
        return json.dumps(doc, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "<history>") -> HistoryDocument:
        """Parse a document written by :meth:`to_json`.

        Raises:
            HistoryFormatError: with the source and the event index at fault.
        """
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryFormatError(
                f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != HISTORY_FORMAT:
            raise HistoryFormatError(
                f'{source}: not a durableflow history (expected "format": "{HISTORY_FORMAT}")'
            )
        events_raw = doc.get("events")
        if not isinstance(events_raw, list):
            raise HistoryFormatError(f'{source}: "events" must be a list')
        events = [event_from_dict(e, f"{source}: events[{i}]") for i, e in enumerate(events_raw)]
        if not any(isinstance(e, ExecutionStarted) for e in events[:2]):
            raise HistoryFormatError(
                f"{source}: the history must open with ExecutionStarted "
                "(optionally after one OrchestratorStarted)"
            )
        instance_id = doc.get("instance_id")
        name = doc.get("name")
        if not isinstance(instance_id, str) or not isinstance(name, str):
            raise HistoryFormatError(f'{source}: "instance_id" and "name" must be strings')
        return cls(instance_id=instance_id, name=name, events=events)
