"""The replay executor: a pure function from history to actions.

``replay(orchestrator, past, new)`` re-runs the orchestrator generator over the recorded
events (``is_replaying`` true), then over the new ones, and returns what the step decided:
new actions, the history events to append, and the instance's new status. It performs no
I/O, reads no clock and starts no threads, so tests call it directly with histories built
from event constructors.

A :class:`Replayer` can also be kept alive between steps (see ``Replayer.advance``): while
the history only grows, feeding it just the new events costs O(new) instead of O(history).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import traceback
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from durableflow.core import history as h
from durableflow.core import payload
from durableflow.core.actions import Action, CreateTimer
from durableflow.core.errors import (
    NonDeterminismError,
    SubOrchestrationFailedError,
    TaskFailedError,
)
from durableflow.core.history import FailureDetails, HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.context import OrchestrationContext, is_continue_as_new_marker
from durableflow.runtime.event_waiters import EventWaiters
from durableflow.runtime.recording import action_event, completion_event, describe_event, matches
from durableflow.runtime.tasks import CodeWaiting, ExternalEventTask, ScheduledTask, Task, TimerTask

NameResolver = Callable[[Any], str]

log = logging.getLogger("durableflow.orchestration")


@dataclass(slots=True)
class StepResult:
    """What one orchestration step decided.

    Attributes:
        status: RUNNING, SUSPENDED or a terminal status (or CONTINUED_AS_NEW).
        actions: new work to enqueue, in sequence order.
        new_events: history events to append, in order (the inputs, then one event per
            action, then the completion event if any).
        output: the orchestrator's return value when COMPLETED.
        failure: why it FAILED.
        custom_status: the latest ``set_custom_status`` value.
        continue_input: the new input when CONTINUED_AS_NEW.
        carryover_events: unconsumed external events to deliver to the next execution.
    """

    status: RuntimeStatus
    actions: list[Action] = field(default_factory=list)
    new_events: list[HistoryEvent] = field(default_factory=list)
    output: Any = None
    failure: FailureDetails | None = None
    custom_status: Any = None
    continue_input: Any = None
    carryover_events: list[h.EventRaised] = field(default_factory=list)

    @property
    def carries_events(self) -> bool:
        """True when events raised after this result go to the next execution."""
        return self.status is RuntimeStatus.CONTINUED_AS_NEW

    @property
    def is_terminal(self) -> bool:
        """True when this step ended the execution."""
        return self.status is not RuntimeStatus.RUNNING and self.status is not (
            RuntimeStatus.SUSPENDED
        )


class Replayer:
    """Replays one execution of an orchestrator. Not thread-safe; one per instance step."""

    def __init__(
        self,
        orchestrator: Callable[..., Any],
        *,
        activity_name: NameResolver = lambda x: x if isinstance(x, str) else x.__name__,
        orchestrator_name: NameResolver = lambda x: x if isinstance(x, str) else x.__name__,
    ) -> None:
        self._fn = orchestrator
        self.resolve_activity_name = activity_name
        self.resolve_orchestrator_name = orchestrator_name
        self.instance_id = ""
        self.execution_id = ""
        self.name = ""
        self.parent_instance_id: str | None = None
        self.current_time = datetime.min
        self.is_replaying = True
        self.custom_status: Any = None
        self.events_seen = 0
        self._ctx = OrchestrationContext(self)
        self._gen: Generator[Any, Any, Any] | None = None
        self._waiting: Task | None = None
        self._seq = 0
        self._pending_actions: dict[int, tuple[Action, str | None]] = {}
        self._new_actions: list[Action] = []
        self._open_tasks: dict[int, ScheduledTask] = {}
        self._events = EventWaiters()
        self._code_waiting = CodeWaiting()
        self._delivered: set[int] = set()
        self._suspended = False
        self._suspended_buffer: list[HistoryEvent] = []
        self._done: StepResult | None = None
        self._continue_input: Any = None
        self._continue_requested = False

    @property
    def context(self) -> OrchestrationContext:
        """The context handed to the orchestrator."""
        return self._ctx

    @property
    def is_finished(self) -> bool:
        """True once the execution reached a terminal state."""
        return self._done is not None

    # -- the step API -------------------------------------------------------------------
    def advance(self, past: Sequence[HistoryEvent], new: Sequence[HistoryEvent]) -> StepResult:
        """Feed events not yet seen from ``past`` (replaying), then ``new``; return the step.

        Call it first with the whole history, then on later steps with the history that has
        grown since (``past`` must extend what this replayer has already seen).
        """
        self._new_actions = []
        self.is_replaying = True
        for event in past[self.events_seen :]:
            self._apply(event)
        self.events_seen = len(past)
        return self._advance_live(new)

    def advance_new(self, new: Sequence[HistoryEvent]) -> StepResult:
        """:meth:`advance` for a replayer that has already seen the whole history: feed
        only ``new`` (``events_seen`` says how long the history it has seen is)."""
        self._new_actions = []
        return self._advance_live(new)

    def _advance_live(self, new: Sequence[HistoryEvent]) -> StepResult:
        # Actions the code created while replaying were matched by their history events;
        # what is left is new (e.g. code appended after the last recorded action).
        self._new_actions = [a for a, _ in self._pending_actions.values()]
        self.is_replaying = False
        accepted = [e for e in new if not self._is_duplicate(e)]
        for event in accepted:
            self._apply(event)
        return self._result(accepted)

    def _result(self, new: Sequence[HistoryEvent]) -> StepResult:
        actions = sorted(self._new_actions, key=lambda a: a.task_id)
        for action in actions:
            self._pending_actions.pop(action.task_id, None)
        stamp = self.current_time
        events: list[HistoryEvent] = list(new)
        events.extend(action_event(a, stamp) for a in actions)
        done = self._done
        if done is None:
            status = RuntimeStatus.SUSPENDED if self._suspended else RuntimeStatus.RUNNING
            result = StepResult(status, actions, events, custom_status=self.custom_status)
        else:
            done.actions = actions
            done.custom_status = self.custom_status
            events.append(completion_event(done, stamp))
            done.new_events = events
            result = done
        self.events_seen += len(events)
        return result

    # -- event application --------------------------------------------------------------
    def _is_duplicate(self, event: HistoryEvent) -> bool:
        """True for a second result of a task that already has one (at-least-once delivery)."""
        if not _is_delivery(event) or isinstance(event, h.EventRaised):
            return False
        task_id: int = event.task_id  # type: ignore[attr-defined]
        return task_id in self._delivered

    def _apply(self, event: HistoryEvent) -> None:
        if _is_delivery(event) and not isinstance(event, h.EventRaised):
            self._delivered.add(event.task_id)  # type: ignore[attr-defined]
        if self._done is not None:
            if isinstance(event, h.EventRaised) and self._done.carries_events:
                # Raised after the code continued as new, in the same step: it is for the
                # next execution, as an event buffered before would be.
                self._done.carryover_events.append(event)
            return
        if self._suspended and _is_delivery(event):
            self._suspended_buffer.append(event)
            return
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            try:
                handler(self, event)
            except BaseException as exc:  # user code run by a task (a retry policy's handle)
                self._fail(exc)

    def _on_started(self, e: h.ExecutionStarted) -> None:
        self.instance_id = e.instance_id
        self.execution_id = e.execution_id
        self.name = e.name
        self.parent_instance_id = e.parent_instance_id
        if self.current_time == datetime.min:
            self.current_time = e.timestamp
        try:
            out = self._fn(self._ctx, _fresh(e.input))
        except BaseException as exc:  # the orchestrator raised before its first yield
            self._fail(exc)
            return
        if inspect.isgenerator(out):
            self._gen = out
            self._resume(None, None)
        else:
            self._complete(out)

    def _on_orchestrator_started(self, e: h.OrchestratorStarted) -> None:
        self.current_time = e.timestamp

    def _on_scheduled(self, e: HistoryEvent) -> None:
        task_id: int = e.task_id  # type: ignore[attr-defined]
        entry = self._pending_actions.pop(task_id, None)
        recorded = describe_event(e)
        if entry is None:
            raise_nondeterminism(self, task_id, recorded, None, None)
            return
        action, where = entry
        if not matches(action, e):
            raise_nondeterminism(self, task_id, recorded, action.describe(), where)

    def _on_task_completed(self, e: h.TaskCompleted | h.SubOrchestrationInstanceCompleted) -> None:
        task = self._open_tasks.pop(e.task_id, None)
        if task is not None:
            task.complete(_fresh(e.result))
            self._resume_if_ready()

    def _on_task_failed(self, e: h.TaskFailed | h.SubOrchestrationInstanceFailed) -> None:
        task = self._open_tasks.pop(e.task_id, None)
        if task is None:
            return
        cls = (
            SubOrchestrationFailedError
            if isinstance(e, h.SubOrchestrationInstanceFailed)
            else (TaskFailedError)
        )
        task.fail(cls(task.name, e.failure.error_type, e.failure.message, e.failure.stack_trace))
        self._resume_if_ready()

    def _on_timer_fired(self, e: h.TimerFired) -> None:
        task = self._open_tasks.pop(e.task_id, None)
        if task is not None:  # a cancelled timer has no open task: ignore it
            task.complete(None)
            self._resume_if_ready()

    def _on_event_raised(self, e: h.EventRaised) -> None:
        if self._events.deliver(e.name, _fresh(e.input)):
            self._resume_if_ready()

    def _on_terminated(self, e: h.ExecutionTerminated) -> None:
        self._close_generator()
        self._done = StepResult(RuntimeStatus.TERMINATED, output=e.reason)

    def _on_suspended(self, e: h.ExecutionSuspended) -> None:
        self._suspended = True

    def _on_resumed(self, e: h.ExecutionResumed) -> None:
        self._suspended = False
        buffered, self._suspended_buffer = self._suspended_buffer, []
        for event in buffered:
            self._apply(event)

    # -- used by the context ------------------------------------------------------------
    def schedule(self, make: Callable[[int], Action], where: str | None) -> ScheduledTask:
        """Give the next sequence number to a new action and return its task."""
        seq = self._seq
        self._seq += 1
        action = make(seq)
        self._pending_actions[seq] = (action, where)
        if not self.is_replaying:
            self._new_actions.append(action)
        task: ScheduledTask
        if isinstance(action, CreateTimer):
            task = TimerTask(seq, action.fire_at, self._cancel_timer)
        else:
            task = ScheduledTask(seq, action.name)
        self._open_tasks[seq] = task
        return task

    def wait_event(self, name: str) -> ExternalEventTask:
        """A task for the next event ``name``; completes now if one is buffered."""
        return self._events.wait(name)

    def request_continue_as_new(self, value: Any) -> None:
        """Remember that the execution should restart with ``value`` when it returns."""
        self._continue_requested = True
        self._continue_input = value

    def _cancel_timer(self, task_id: int) -> None:
        self._open_tasks.pop(task_id, None)

    # -- driving the generator ----------------------------------------------------------
    def _resume_if_ready(self) -> None:
        if self._waiting is not None and self._waiting.is_complete:
            task, self._waiting = self._waiting, None
            task._parents.remove(self._code_waiting)
            self._resume(task._result, task._exception)

    def _resume(self, value: Any, exc: BaseException | None) -> None:
        gen = self._gen
        assert gen is not None
        while True:
            try:
                yielded = gen.throw(exc) if exc is not None else gen.send(value)
            except StopIteration as stop:
                self._complete(stop.value)
                return
            except BaseException as err:  # SystemExit too: it ends this instance, not the worker
                self._fail(err)
                return
            if not isinstance(yielded, Task):
                gen.close()
                self._fail(
                    TypeError(
                        f"orchestrator {self.name!r} yielded {type(yielded).__name__}, not a "
                        "durable task; yield only what ctx methods return"
                    )
                )
                return
            if is_continue_as_new_marker(yielded):
                gen.close()
                self._complete(None)
                return
            if not yielded.is_complete:
                yielded._reclaim()  # an event wait that lost a race, now waited on again
            if not yielded.is_complete:
                self._waiting = yielded
                yielded._parents.append(self._code_waiting)
                return
            value, exc = yielded._result, yielded._exception

    def _complete(self, output: Any) -> None:
        if self._continue_requested:
            self._done = StepResult(
                RuntimeStatus.CONTINUED_AS_NEW,
                continue_input=self._continue_input,
                carryover_events=self._carryover(),
            )
            return
        try:
            value = payload.normalize(output, f"output of orchestration {self.name!r}")
        except BaseException as exc:
            self._fail(exc)
            return
        self._done = StepResult(RuntimeStatus.COMPLETED, output=value)

    def _fail(self, exc: BaseException) -> None:
        if not isinstance(exc, Exception) and not self.is_replaying:
            log.error(
                "orchestration %r (instance %s) raised %s; the instance fails with it",
                self.name,
                self.instance_id,
                type(exc).__name__,
                exc_info=exc,
            )
        self._close_generator()
        self._done = StepResult(RuntimeStatus.FAILED, failure=failure_of(exc))

    def _close_generator(self) -> None:
        if self._gen is not None:
            # The orchestrator's own cleanup may fail (even with SystemExit); it is ending.
            with contextlib.suppress(BaseException):
                self._gen.close()

    def _carryover(self) -> list[h.EventRaised]:
        return [
            h.EventRaised(timestamp=self.current_time, name=name, input=value)
            for name, value in self._events.buffered()
        ]


def raise_nondeterminism(
    r: Replayer, seq: int, recorded: str, created: str | None, where: str | None
) -> None:
    """Fail the execution with a NonDeterminismError in three parts: what, why, fix."""
    if created is None:
        what = (
            f"A previous execution of orchestration {r.name!r} (instance {r.instance_id!r}) "
            f"called {recorded} with sequence number {seq}, but the current execution did not "
            "create any task at that point."
        )
    else:
        what = (
            f"A previous execution of orchestration {r.name!r} (instance {r.instance_id!r}) "
            f"called {recorded} with sequence number {seq}, but the current execution is "
            f"instead trying to call {created}" + (f" at {where}" if where else "") + "."
        )
    why = (
        " This can happen if the orchestration has non-deterministic logic (clock, random, "
        "I/O, environment) or its code changed after this instance started."
    )
    fix = (
        " Fix: make the code deterministic (run `durable-lint`), or deploy the change under a "
        "new orchestrator name and let running instances finish on the old code."
    )
    err = NonDeterminismError(what + why + fix)
    r._fail(err)
    r._gen = None


def failure_of(exc: BaseException) -> FailureDetails:
    """FailureDetails for an exception: qualified type, message and traceback text.

    An exception whose ``str()`` raises gets the message ``<unprintable T>``, so that the
    failure can always be recorded.
    """
    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ != "builtins":
        name = f"{cls.__module__}.{name}"
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {cls.__qualname__}>"
    trace = None
    if exc.__traceback__ is not None:
        try:
            trace = "".join(traceback.format_exception(exc))
        except Exception:
            trace = None
    return FailureDetails(error_type=name, message=message, stack_trace=trace)


def _fresh(value: Any) -> Any:
    """A private copy of a payload for user code: mutating it must not rewrite history."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


def _is_delivery(event: HistoryEvent) -> bool:
    return isinstance(
        event,
        (
            h.TaskCompleted,
            h.TaskFailed,
            h.TimerFired,
            h.EventRaised,
            h.SubOrchestrationInstanceCompleted,
            h.SubOrchestrationInstanceFailed,
        ),
    )


_HANDLERS: dict[type, Callable[[Replayer, Any], None]] = {
    h.ExecutionStarted: Replayer._on_started,
    h.OrchestratorStarted: Replayer._on_orchestrator_started,
    h.TaskScheduled: Replayer._on_scheduled,
    h.TimerCreated: Replayer._on_scheduled,
    h.SubOrchestrationInstanceCreated: Replayer._on_scheduled,
    h.TaskCompleted: Replayer._on_task_completed,
    h.SubOrchestrationInstanceCompleted: Replayer._on_task_completed,
    h.TaskFailed: Replayer._on_task_failed,
    h.SubOrchestrationInstanceFailed: Replayer._on_task_failed,
    h.TimerFired: Replayer._on_timer_fired,
    h.EventRaised: Replayer._on_event_raised,
    h.ExecutionTerminated: Replayer._on_terminated,
    h.ExecutionSuspended: Replayer._on_suspended,
    h.ExecutionResumed: Replayer._on_resumed,
}


def replay(
    orchestrator: Callable[..., Any],
    past: Sequence[HistoryEvent],
    new: Sequence[HistoryEvent] = (),
    *,
    activity_name: NameResolver | None = None,
    orchestrator_name: NameResolver | None = None,
) -> StepResult:
    """Replay ``past`` then apply ``new``; return the step's decisions. Pure: no I/O.

    Args:
        orchestrator: the generator function ``(ctx, input)``.
        past: the recorded history of this execution (starts with ExecutionStarted), or
            empty when ``new`` starts the execution.
        new: the events this step consumes (an OrchestratorStarted first, by convention).
        activity_name: maps ``call_activity``'s first argument to a name (default: a str
            as is, a function by ``__name__``).
        orchestrator_name: the same for ``call_sub_orchestrator``.
    """
    kwargs: dict[str, Any] = {}
    if activity_name is not None:
        kwargs["activity_name"] = activity_name
    if orchestrator_name is not None:
        kwargs["orchestrator_name"] = orchestrator_name
    return Replayer(orchestrator, **kwargs).advance(past, new)
