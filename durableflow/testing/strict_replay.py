"""Strict replay: does the current code reproduce a recorded history exactly?

The runtime, like Durable Functions, checks only that the action created at each sequence
number has the recorded kind and name. That lets a changed input slip through: an activity
called with ``datetime.now()``, a ``random`` pick or a set's iteration order replays
"cleanly" and then does something else. Strict replay compares inputs too, and it replays
the history the way workers do after every restart: for each step, a fresh
:class:`~durableflow.runtime.executor.Replayer` replays the history before the step and runs
the step live. Each prefix must create the recorded actions (kind, name, input) at the
recorded sequence numbers, and the whole history must end with the recorded outcome.

Three public checks:

* :func:`check_actions`: every prefix creates the recorded actions;
* :func:`check_output`: replaying the whole history ends as recorded (status and output);
* :func:`strict_replay`: both, sharing one pass; the first divergence or ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from durableflow.core import history as h
from durableflow.core.actions import Action
from durableflow.core.app import App
from durableflow.core.errors import HistoryFormatError, UnknownFunctionError
from durableflow.core.history import HistoryDocument, HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.executor import Replayer, StepResult
from durableflow.runtime.tasks import ScheduledTask
from durableflow.testing.divergence import ActionRecord, Divergence, ExecutionOutcome, same_json

__all__ = [
    "ActionRecord",
    "Divergence",
    "ExecutionOutcome",
    "HistorySource",
    "check_actions",
    "check_output",
    "load_history",
    "same_json",
    "strict_replay",
]

HistorySource = HistoryDocument | Sequence[HistoryEvent] | str | os.PathLike[str]
"""What the checks accept: a document, its events, its JSON text, or a path to the file."""

Target = App | Callable[..., Any]

_ACTION_EVENTS = (h.TaskScheduled, h.TimerCreated, h.SubOrchestrationInstanceCreated)
_OUTCOME_EVENTS = (h.ExecutionCompleted, h.ExecutionFailed, h.ContinuedAsNew)
_ENDING_EVENTS = (*_OUTCOME_EVENTS, h.ExecutionTerminated)


def load_history(source: HistorySource) -> HistoryDocument:
    """A :class:`HistoryDocument` from any :data:`HistorySource`.

    A JSON string or a path is parsed as the document ``Client.get_history(...).to_json()``
    and ``durable history`` write; a list of events takes its name and instance id from
    its ``ExecutionStarted``.

    Raises:
        HistoryFormatError: the text or file is not a history, or the events do not start
            an execution.
    """
    if isinstance(source, HistoryDocument):
        return source
    if isinstance(source, os.PathLike):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise HistoryFormatError(
                f"{path}: cannot read the history file ({exc.strerror}); pass the path "
                "of a file written by `durable history`"
            ) from None
        return HistoryDocument.from_json(text, source=str(path))
    if isinstance(source, str):
        return HistoryDocument.from_json(source)
    events = list(source)
    start = next((e for e in events[:2] if isinstance(e, h.ExecutionStarted)), None)
    if start is None:
        raise HistoryFormatError(
            "history: the events must open with ExecutionStarted (optionally after one "
            "OrchestratorStarted); pass a whole execution, as Client.get_history returns it"
        )
    return HistoryDocument(instance_id=start.instance_id, name=start.name, events=events)


def check_actions(
    target: Target,
    history: HistorySource,
    *,
    every_prefix: bool = True,
    compare_inputs: bool = True,
) -> Divergence | None:
    """Replay every prefix of ``history``; the first action that differs, or ``None``.

    For each step of the history, a fresh replayer replays the events before the step and
    runs the step's input events live, as a worker does after a restart. Every action the
    code creates in that run must equal the recorded action with the same sequence number
    in kind, name, input (compared as JSON: ``1`` is not ``1.0`` or ``True``) and child
    instance id, and the code must create every action the history records up to the next
    step. Prefixes are tried shortest first; within one, the lowest sequence number wins.

    Replaying every prefix costs O(n^2) in the history's length. With
    ``every_prefix=False`` the history is replayed two ways only, in O(n): step by step
    with one replayer kept alive (as a worker's cached session runs it) and, for the last
    step, with a fresh replayer (as after a restart). That still catches inputs that
    differ between runs or between replaying and running live, but not code whose
    behaviour depends on the particular step at which a restart happened.

    Args:
        target: the :class:`~durableflow.core.app.App` that registers the orchestrator
            (names of activities passed as functions resolve through it), or the
            orchestrator function itself.
        history: the recorded history (see :data:`HistorySource`).
        every_prefix: replay each prefix with a fresh replayer (the default), or take the
            O(n) route described above.
        compare_inputs: ``False`` compares kinds and names only, as the runtime does: a
            divergence then means the runtime itself would fail the instance.

    Raises:
        UnknownFunctionError: ``target`` is an app without the history's orchestrator.
        HistoryFormatError: ``history`` is not a valid history.
    """
    doc = load_history(history)
    how: _How = "every" if every_prefix else "session"
    for run in _prefix_runs(target, doc, how, compare_inputs):
        if run.divergence is not None:
            return run.divergence
    return None


def check_output(
    target: Target, history: HistorySource, *, compare_values: bool = True
) -> Divergence | None:
    """Replay the whole of ``history``; an ``"output"`` divergence if it ends differently.

    The last step runs live, as in the runtime. A history that has not ended must replay to
    a state that has not ended either; one that completed must complete with the same
    output (compared as JSON), one that failed must fail with the same error type and
    message, one that continued as new must continue with the same input.

    Args:
        target: the app that registers the orchestrator, or the orchestrator itself.
        history: the recorded history (see :data:`HistorySource`).
        compare_values: ``False`` compares the status only.

    Raises:
        UnknownFunctionError: ``target`` is an app without the history's orchestrator.
        HistoryFormatError: ``history`` is not a valid history.
    """
    doc = load_history(history)
    runs = list(_prefix_runs(target, doc, "last", True))
    return _output_divergence(doc, runs[-1], compare_values) if runs else None


def strict_replay(
    target: Target,
    history: HistorySource,
    *,
    every_prefix: bool = True,
    compare_inputs: bool = True,
) -> Divergence | None:
    """:func:`check_actions`, then :func:`check_output`; the first divergence or ``None``.

    Both checks share one pass: the replay of the last step that checks its actions also
    gives the outcome.

    Args:
        target: the app that registers the orchestrator, or the orchestrator itself.
        history: the recorded history (see :data:`HistorySource`).
        every_prefix: as for :func:`check_actions`.
        compare_inputs: as for :func:`check_actions`; ``False`` also compares the
            outcome's status only, not its value.

    Raises:
        UnknownFunctionError: ``target`` is an app without the history's orchestrator.
        HistoryFormatError: ``history`` is not a valid history.
    """
    doc = load_history(history)
    last: _PrefixRun | None = None
    how: _How = "every" if every_prefix else "session"
    for last in _prefix_runs(target, doc, how, compare_inputs):
        if last.divergence is not None:
            return last.divergence
    return None if last is None else _output_divergence(doc, last, compare_inputs)


# -- the replay passes ------------------------------------------------------------------


class _RecordingReplayer(Replayer):
    """A replayer that remembers every action the code creates and where."""

    def __init__(self, orchestrator: Callable[..., Any], app: App | None) -> None:
        if app is None:
            super().__init__(orchestrator)
        else:
            super().__init__(orchestrator, activity_name=app.name_of, orchestrator_name=app.name_of)
        self.created: dict[int, tuple[Action, str | None]] = {}

    def schedule(self, make: Callable[[int], Action], where: str | None) -> ScheduledTask:
        def record(seq: int) -> Action:
            action = make(seq)
            self.created[seq] = (action, where)
            return action

        return super().schedule(record, where)


@dataclass(slots=True)
class _PrefixRun:
    prefix_length: int
    result: StepResult
    divergence: Divergence | None


_How = Literal["every", "session", "last"]


def _prefix_runs(
    target: Target, doc: HistoryDocument, how: _How, inputs: bool
) -> Iterator[_PrefixRun]:
    """Replay ``doc`` step by step and yield each step's run, checked against the record.

    ``every``: a fresh replayer per step (restart before every step); ``session``: one
    replayer kept alive over all steps, then a fresh one for the last step; ``last``: only
    that last fresh run, unchecked (for the output alone).
    """
    fn, app = _orchestrator(target, doc.name)
    events = [e for e in doc.events if not isinstance(e, _OUTCOME_EVENTS)]
    segments = _input_segments(events)
    last = len(segments) - 1
    if how == "last":
        if segments:
            start, end = segments[last]
            result = _RecordingReplayer(fn, app).advance(events[:start], events[start:end])
            yield _PrefixRun(end, result, None)
        return
    check = _Check(doc, events, segments, inputs)
    if how == "session":
        session = _RecordingReplayer(fn, app)
        for k, (start, end) in enumerate(segments):
            result = session.advance(events[:start], events[start:end])
            run = _PrefixRun(end, result, check.step(k, session.created, only_new=True))
            yield run
            if run.divergence is not None:
                return
            if session.is_finished:
                break
    for k, (start, end) in enumerate(segments):
        if how == "every" or k == last:
            replayer = _RecordingReplayer(fn, app)
            result = replayer.advance(events[:start], events[start:end])
            yield _PrefixRun(end, result, check.step(k, replayer.created, only_new=False))


class _Check:
    """Compares what a replay created with what the history recorded, step by step."""

    def __init__(
        self,
        doc: HistoryDocument,
        events: Sequence[HistoryEvent],
        segments: Sequence[tuple[int, int]],
        inputs: bool,
    ) -> None:
        self.doc = doc
        self.inputs = inputs
        self.segments = segments
        self.recorded: dict[int, tuple[int, ActionRecord]] = {}
        # Actions recorded right after each step's inputs: what that step decided.
        self.decided: list[list[int]] = [[] for _ in segments]
        k = 0
        for i, e in enumerate(events):
            if isinstance(e, _ACTION_EVENTS):
                while k + 1 < len(segments) and segments[k + 1][0] <= i:
                    k += 1
                self.recorded[e.task_id] = (i, ActionRecord.of_event(e))
                self.decided[k].append(e.task_id)
        self.n_events = len(events)
        self.last = max(self.recorded, default=-1)
        self.ended = any(isinstance(e, _ENDING_EVENTS) for e in doc.events)
        self.checked: set[int] = set()

    def step(
        self, k: int, created: dict[int, tuple[Action, str | None]], *, only_new: bool
    ) -> Divergence | None:
        """The first divergence of a replay that has just run step ``k``.

        Args:
            k: the step's index.
            created: every action the replay created, by sequence number.
            only_new: the replay carried on from step ``k - 1`` (a session), so only
                actions not yet checked need a look.
        """
        segments = self.segments
        scope_end = segments[k + 1][0] if k + 1 < len(segments) else self.n_events
        if only_new:
            seqs = {*self.decided[k], *(seq for seq in created if seq not in self.checked)}
            self.checked |= seqs
        else:
            seqs = {seq for d in self.decided[: k + 1] for seq in d} | created.keys()
        recorded = self.recorded
        for seq in sorted(seqs):
            rec = recorded.get(seq)
            entry = created.get(seq)
            new = None if entry is None else ActionRecord.of_action(entry[0])
            if rec is None:
                # Past the last recorded action of an execution that has not ended, the
                # runtime schedules what the code creates as new work: not a break.
                if new is None or (not self.inputs and not self.ended and seq > self.last):
                    continue
                return self._divergence(k, seq, None, new, entry)
            old = rec[1]
            due = rec[0] < scope_end
            if new is None:
                if due:
                    return self._divergence(k, seq, old, None, None)
            elif not old.same_as(new, inputs=self.inputs) or (self.inputs and not due):
                # (created at an earlier step than recorded: the runtime accepts it)
                return self._divergence(k, seq, old, new, entry)
        return None

    def _divergence(
        self,
        k: int,
        seq: int,
        old: ActionRecord | None,
        new: ActionRecord | None,
        entry: tuple[Action, str | None] | None,
    ) -> Divergence:
        return Divergence(
            kind="action",
            name=self.doc.name,
            instance_id=self.doc.instance_id,
            prefix_length=self.segments[k][1],
            sequence_number=seq,
            recorded=old,
            new=new,
            line=None if entry is None else entry[1],
        )


def _output_divergence(doc: HistoryDocument, run: _PrefixRun, values: bool) -> Divergence | None:
    expected = _recorded_outcome(doc.events)
    got = _replayed_outcome(run.result)
    if expected.same_as(got, values=values):
        return None
    return Divergence(
        kind="output",
        name=doc.name,
        instance_id=doc.instance_id,
        prefix_length=run.prefix_length,
        recorded_outcome=expected,
        new_outcome=got,
    )


def _input_segments(events: Sequence[HistoryEvent]) -> list[tuple[int, int]]:
    """(start, end) of each step's input events: a maximal run of non-action events."""
    segments: list[tuple[int, int]] = []
    start: int | None = None
    for i, event in enumerate(events):
        if isinstance(event, _ACTION_EVENTS):
            if start is not None:
                segments.append((start, i))
                start = None
        elif start is None or (isinstance(event, h.OrchestratorStarted) and i > start):
            if start is not None:
                segments.append((start, i))
            start = i
    if start is not None:
        segments.append((start, len(events)))
    return segments


def _recorded_outcome(events: Sequence[HistoryEvent]) -> ExecutionOutcome:
    suspended = False
    for event in events:
        if isinstance(event, h.ExecutionCompleted):
            return ExecutionOutcome(RuntimeStatus.COMPLETED, event.result)
        if isinstance(event, h.ExecutionFailed):
            failure = event.failure
            return ExecutionOutcome(
                RuntimeStatus.FAILED, f"{failure.error_type}: {failure.message}"
            )
        if isinstance(event, h.ContinuedAsNew):
            return ExecutionOutcome(RuntimeStatus.CONTINUED_AS_NEW, event.input)
        if isinstance(event, h.ExecutionTerminated):
            return ExecutionOutcome(RuntimeStatus.TERMINATED, event.reason)
        if isinstance(event, h.ExecutionSuspended):
            suspended = True
        elif isinstance(event, h.ExecutionResumed):
            suspended = False
    return ExecutionOutcome(RuntimeStatus.SUSPENDED if suspended else RuntimeStatus.RUNNING)


def _replayed_outcome(result: StepResult) -> ExecutionOutcome:
    status = result.status
    if status is RuntimeStatus.FAILED:
        failure = result.failure
        assert failure is not None
        return ExecutionOutcome(status, f"{failure.error_type}: {failure.message}")
    if status is RuntimeStatus.CONTINUED_AS_NEW:
        return ExecutionOutcome(status, result.continue_input)
    if status is RuntimeStatus.COMPLETED or status is RuntimeStatus.TERMINATED:
        return ExecutionOutcome(status, result.output)
    return ExecutionOutcome(status)


def _orchestrator(target: Target, name: str) -> tuple[Callable[..., Any], App | None]:
    if not isinstance(target, App):
        return target, None
    if name in target.graphs:
        from durableflow.runtime.graph_interpreter import graph_orchestrator

        return graph_orchestrator(target.graphs[name]), target  # type: ignore[arg-type]
    if name in target.orchestrators:
        return target.orchestrators[name], target
    raise UnknownFunctionError("orchestrator", name, list(target.orchestrators))
