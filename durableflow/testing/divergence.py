"""What strict replay reports: the recorded and the new action, or the two outcomes.

Frozen records with a JSON form (``to_dict``/``from_dict``), so a divergence found in a
subprocess or saved beside a history reads back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from durableflow.core import history as h
from durableflow.core.actions import Action, CreateTimer, ScheduleActivity
from durableflow.core.history import HistoryEvent
from durableflow.core.status import RuntimeStatus

__all__ = ["ActionRecord", "Divergence", "ExecutionOutcome", "same_json"]


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One durable action as strict replay compares it.

    Attributes:
        kind: ``"activity"``, ``"timer"`` or ``"sub_orchestration"``.
        name: the activity or orchestrator name (``None`` for timers).
        input: the JSON input; a timer's is its due time in ISO 8601.
        instance_id: a sub-orchestration's child instance id.
    """

    kind: str
    name: str | None
    input: Any
    instance_id: str | None = None

    def describe(self) -> str:
        """The call as text: ``call_activity('charge', input=[1, 2])``."""
        if self.kind == "timer":
            return f"create_timer({self.input})"
        call = "call_activity" if self.kind == "activity" else "call_sub_orchestrator"
        child = f", instance_id={self.instance_id!r}" if self.instance_id is not None else ""
        return f"{call}({self.name!r}, input={self.input!r}{child})"

    @classmethod
    def of_action(cls, action: Action) -> ActionRecord:
        """The record of an action the code created."""
        if isinstance(action, ScheduleActivity):
            return cls("activity", action.name, action.input)
        if isinstance(action, CreateTimer):
            return cls("timer", None, action.fire_at.isoformat())
        return cls("sub_orchestration", action.name, action.input, action.instance_id)

    @classmethod
    def of_event(cls, event: HistoryEvent) -> ActionRecord:
        """The record of a TaskScheduled, TimerCreated or SubOrchestrationInstanceCreated."""
        if isinstance(event, h.TaskScheduled):
            return cls("activity", event.name, event.input)
        if isinstance(event, h.TimerCreated):
            return cls("timer", None, event.fire_at.isoformat())
        if isinstance(event, h.SubOrchestrationInstanceCreated):
            return cls("sub_orchestration", event.name, event.input, event.instance_id)
        raise TypeError(f"{event.TYPE} does not record an action")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "kind": self.kind,
            "name": self.name,
            "input": self.input,
            "instance_id": self.instance_id,
        }

    def same_as(self, other: ActionRecord, *, inputs: bool = True) -> bool:
        """True when both are the same call: kind, name, JSON-identical input, child id.

        With ``inputs=False``, kind and name only: what the runtime compares.
        """
        if self.kind != other.kind or self.name != other.name:
            return False
        return not inputs or (
            self.instance_id == other.instance_id and same_json(self.input, other.input)
        )


@dataclass(frozen=True, slots=True)
class ExecutionOutcome:
    """How an execution ended, or that it had not yet.

    Attributes:
        status: RUNNING or SUSPENDED for a history that has not ended, else terminal.
        value: the output (COMPLETED), ``"ErrorType: message"`` (FAILED), the new input
            (CONTINUED_AS_NEW) or the reason (TERMINATED); ``None`` otherwise.
    """

    status: RuntimeStatus
    value: Any = None

    def describe(self) -> str:
        """``completed with 3``, ``failed with ValueError: boom``, ``still running``."""
        status = self.status
        if status is RuntimeStatus.RUNNING or status is RuntimeStatus.SUSPENDED:
            return f"still {status.value.lower()}"
        if status is RuntimeStatus.FAILED:
            return f"failed with {self.value}"
        if status is RuntimeStatus.CONTINUED_AS_NEW:
            return f"continued as new with {self.value!r}"
        return f"{status.value.lower()} with {self.value!r}"

    def same_as(self, other: ExecutionOutcome, *, values: bool = True) -> bool:
        """True for the same status and (unless ``values=False``) a JSON-identical value."""
        return self.status is other.status and (not values or same_json(self.value, other.value))


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first place where the current code does not reproduce a recorded history.

    Attributes:
        kind: ``"action"`` (an action differs, is missing or is extra) or ``"output"``
            (every action matched but the execution ends differently).
        name: the orchestration name.
        instance_id: the recorded instance.
        prefix_length: how many history events had been fed to the replay when the
            divergence showed (the step's own input events included).
        sequence_number: the task's sequence number (``None`` for an output divergence).
        recorded: the action the history recorded there (``None``: the code creates an
            action the history never had).
        new: the action the current code creates there (``None``: it creates none).
        line: ``file:line`` where the current code creates ``new``, when known.
        recorded_outcome: how the history ended (output divergences).
        new_outcome: how the replay ended (output divergences).
    """

    kind: Literal["action", "output"]
    name: str
    instance_id: str
    prefix_length: int
    sequence_number: int | None = None
    recorded: ActionRecord | None = None
    new: ActionRecord | None = None
    line: str | None = None
    recorded_outcome: ExecutionOutcome | None = None
    new_outcome: ExecutionOutcome | None = None

    def message(self) -> str:
        """What happened, the likely cause and the fix, in the runtime's three-part style."""
        why = (
            " This happens when the orchestrator reads something that differs between runs "
            "(the wall clock, random, set or dict order, module-level state, the "
            "environment), directly or in a helper, or when its code changed after the "
            "history was recorded."
        )
        fix = (
            " Fix: compute inputs only from the orchestrator's input, task results, "
            "ctx.current_utc_datetime and ctx.new_uuid() (run `durable-lint`), or deploy "
            "the change under a new orchestrator name and let recorded instances finish on "
            "the old code."
        )
        return self.what() + why + fix

    def what(self) -> str:
        """The first part of :meth:`message` alone: what differs, and where."""
        who = f"orchestration {self.name!r} (instance {self.instance_id!r})"
        if self.kind == "output":
            assert self.recorded_outcome is not None and self.new_outcome is not None
            what = (
                f"The recorded history of {who} {self.recorded_outcome.describe()}, but "
                f"replaying it with the current code {self.new_outcome.describe()}."
            )
        elif self.recorded is None:
            assert self.new is not None
            what = (
                f"Replaying the first {self.prefix_length} events of {who}, the current code "
                f"creates {self.new.describe()} with sequence number {self.sequence_number}"
                f"{_at(self.line)}, which the history never recorded."
            )
        elif self.new is None:
            what = (
                f"A previous execution of {who} called {self.recorded.describe()} with "
                f"sequence number {self.sequence_number}, but replaying the first "
                f"{self.prefix_length} events the current code creates no task there."
            )
        elif self.recorded.same_as(self.new):
            what = (
                f"A previous execution of {who} called {self.recorded.describe()} with "
                f"sequence number {self.sequence_number} at a later step; replaying the "
                f"first {self.prefix_length} events, the current code already calls it"
                f"{_at(self.line)}."
            )
        else:
            what = (
                f"A previous execution of {who} called {self.recorded.describe()} with "
                f"sequence number {self.sequence_number}, but the current code instead "
                f"calls {self.new.describe()}{_at(self.line)}."
            )
        return what

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form; :meth:`from_dict` reads it back."""
        return {
            "kind": self.kind,
            "name": self.name,
            "instance_id": self.instance_id,
            "prefix_length": self.prefix_length,
            "sequence_number": self.sequence_number,
            "recorded": None if self.recorded is None else self.recorded.to_dict(),
            "new": None if self.new is None else self.new.to_dict(),
            "line": self.line,
            "recorded_outcome": _outcome_dict(self.recorded_outcome),
            "new_outcome": _outcome_dict(self.new_outcome),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Divergence:
        """Rebuild a divergence from :meth:`to_dict` output.

        Raises:
            ValueError: ``data`` is not such a dict (names the missing or bad field).
        """
        try:
            kind = data["kind"]
            if kind not in ("action", "output"):
                raise ValueError(f"kind must be 'action' or 'output', got {kind!r}")
            return cls(
                kind=kind,
                name=str(data["name"]),
                instance_id=str(data["instance_id"]),
                prefix_length=int(data["prefix_length"]),
                sequence_number=data["sequence_number"],
                recorded=_record_of(data["recorded"]),
                new=_record_of(data["new"]),
                line=data["line"],
                recorded_outcome=_outcome_of(data["recorded_outcome"]),
                new_outcome=_outcome_of(data["new_outcome"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a serialized Divergence: {exc!r}") from None


def same_json(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same JSON value, types included (``1 != 1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(v, b[k]) for k, v in a.items())
    return bool(a == b)


def _record_of(data: dict[str, Any] | None) -> ActionRecord | None:
    if data is None:
        return None
    return ActionRecord(data["kind"], data["name"], data["input"], data["instance_id"])


def _outcome_dict(outcome: ExecutionOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {"status": outcome.status.value, "value": outcome.value}


def _outcome_of(data: dict[str, Any] | None) -> ExecutionOutcome | None:
    if data is None:
        return None
    try:
        status = RuntimeStatus(data["status"])
    except ValueError:
        raise TypeError(f"unknown status {data['status']!r}") from None
    return ExecutionOutcome(status, data["value"])


def _at(line: str | None) -> str:
    return f" at {line}" if line else ""
