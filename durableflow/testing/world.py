"""The simulated world every test driver shares: a virtual clock and a source of decisions.

An orchestrator runs here on the pure replay executor (no store, no threads, no real time).
At each step the world lists what could happen next (an open activity or sub-orchestration
completes or fails, the earliest timer fires, an external event arrives) and asks a
:class:`Source` which; the source also says when a non-timer event arrives, what results
are, and whether to crash (drop the live generator and replay from history), deliver a
result twice, or let an activity's lease expire (its result arrives twice, the second from
a rerun). Time skips: a timer fires at its due time, however far ahead.

Three sources drive it: a seeded :class:`RandomSource` (the compiler's equivalence check),
hypothesis-drawn bytes (:mod:`durableflow.testing.entropy`), and a
:class:`~durableflow.testing.tape.Tape` replaying the decisions of an earlier run (crash
equivalence, graph equivalence, saved counterexamples).
``durableflow.testing.run_orchestration`` runs the real worker and store on the same
virtual clock instead.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from durableflow.core import history as h
from durableflow.core.actions import Action, CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.history import FailureDetails, HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.executor import Replayer
from durableflow.runtime.tasks import CompositeTask, ExternalEventTask, ScheduledTask, Task

__all__ = [
    "T0",
    "Choice",
    "Created",
    "RandomSource",
    "SimRun",
    "Source",
    "Step",
    "TracingReplayer",
    "simulate",
]

_A = TypeVar("_A")

T0 = datetime(2024, 1, 1, tzinfo=UTC)
"""Where virtual time starts."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing that may happen next: ``kind`` is "task", "timer" or "event"."""

    kind: str
    key: Any


@dataclass(slots=True)
class Created:
    """A task the orchestrator created, and where."""

    task: ScheduledTask
    action: Action
    where: str | None


class TracingReplayer(Replayer):
    """A replayer that remembers every task the code creates (and its source line), every
    task it yields and every event name it waits for; the properties read them."""

    def __init__(self, orchestrator: Callable[..., Any], **names: Any) -> None:
        super().__init__(self._traced(orchestrator), **names)
        self.created: list[Created] = []
        self.yielded: list[Task] = []
        self.awaited: list[str] = []

    def schedule(self, make: Callable[[int], Action], where: str | None) -> ScheduledTask:
        """Record the new task, then schedule it as the executor does."""
        holder: list[Action] = []

        def recording(seq: int) -> Action:
            action = make(seq)
            holder.append(action)
            return action

        task = super().schedule(recording, where)
        self.created.append(Created(task, holder[0], where))
        return task

    def wait_event(self, name: str) -> ExternalEventTask:
        """Record the awaited name, then wait as the executor does."""
        self.awaited.append(name)
        return super().wait_event(name)

    def _traced(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(ctx: Any, value: Any) -> Any:
            out = fn(ctx, value)
            if not inspect.isgenerator(out):
                return out
            return self._proxy(out)

        run.__name__ = getattr(fn, "__name__", "orchestrator")
        return run

    def _proxy(self, gen: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
        value: Any = None
        exc: BaseException | None = None
        while True:
            try:
                yielded = gen.throw(exc) if exc is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            if isinstance(yielded, Task):
                self.yielded.append(yielded)
            try:
                value, exc = (yield yielded), None
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as err:  # thrown in by the executor: pass it on
                value, exc = None, err

    def reachable(self) -> set[int]:
        """Ids of every task yielded, directly or inside a yielded composite."""
        seen: set[int] = set()
        stack = list(self.yielded)
        while stack:
            task = stack.pop()
            if id(task) in seen:
                continue
            seen.add(id(task))
            if isinstance(task, CompositeTask):
                stack.extend(task.children)
        return seen


class Source(Protocol):
    """What decides the world's next move. Every method is called in a fixed order per
    step, so a recorded sequence of answers replays the same run."""

    def begin_step(self, step: int) -> None:
        """A new step begins."""
        ...

    def choose(self, choices: Sequence[Choice]) -> int:
        """Index of the choice that happens next."""
        ...

    def arrival(self, now: datetime, limit: datetime | None) -> datetime:
        """When a non-timer event arrives (``limit``: the earliest timer still due)."""
        ...

    def timer_time(self, now: datetime, fire_at: datetime) -> datetime:
        """When a timer due at ``fire_at`` fires (its step's clock)."""
        ...

    def outcome(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """``(True, result)`` or ``(False, FailureDetails)`` for a task of ``kind`` named
        ``name`` with input ``value``."""
        ...

    def event_value(self, name: str) -> Any:
        """The payload of external event ``name``."""
        ...

    def together(self) -> bool:
        """Whether a second thing happens in the same step (at the same time)."""
        ...

    def flag(self, what: str) -> bool:
        """Whether to inject ``what`` here: "crash", "duplicate" or "lease"."""
        ...

    def rerun(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """The outcome of an activity's second run after its first lease expired."""
        ...


DEFAULT_RESULTS: tuple[Any, ...] = (0, 1, 2, 3, 7, 42, "done", "ok", True, False, None, [1, 2])
"""Activity and sub-orchestration results the seeded world picks from."""


class RandomSource:
    """Seeded decisions: the same seed, step and choices give the same world."""

    def __init__(
        self,
        seed: int,
        *,
        results: Sequence[Any] = DEFAULT_RESULTS,
        failure_rate: float = 0.2,
    ) -> None:
        self.seed = seed
        self.results = tuple(results)
        self.failure_rate = failure_rate
        self._rng = random.Random(seed)

    def begin_step(self, step: int) -> None:
        """One generator per step, so a step's choices do not depend on earlier ones' count."""
        self._rng = random.Random(f"{self.seed}:{step}")

    def choose(self, choices: Sequence[Choice]) -> int:
        """A uniform choice."""
        return choices.index(self._rng.choice(list(choices)))

    def arrival(self, now: datetime, limit: datetime | None) -> datetime:
        """One second to an hour later."""
        return now + timedelta(seconds=self._rng.randint(1, 3600))

    def timer_time(self, now: datetime, fire_at: datetime) -> datetime:
        """The due time, and at least a second after the last step."""
        return max(now + timedelta(seconds=1), fire_at)

    def outcome(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """Fails at ``failure_rate``; otherwise one of ``results``."""
        if self._rng.random() < self.failure_rate:
            return False, None
        return True, self._rng.choice(self.results)

    def event_value(self, name: str) -> Any:
        """One of ``results``."""
        return self._rng.choice(self.results)

    def together(self) -> bool:
        """One thing per step."""
        return False

    def flag(self, what: str) -> bool:
        """Never injects anything."""
        return False

    def rerun(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """Never asked (no leases expire)."""
        return self.outcome(kind, name, value)


class _Recorder:
    """Wraps a source and writes down every answer (the run's tape)."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.tape: list[tuple[str, Any]] = []

    def begin_step(self, step: int) -> None:
        self.inner.begin_step(step)

    def choose(self, choices: Sequence[Choice]) -> int:
        return self._keep("choose", self.inner.choose(choices))

    def arrival(self, now: datetime, limit: datetime | None) -> datetime:
        return self._keep("arrival", self.inner.arrival(now, limit))

    def timer_time(self, now: datetime, fire_at: datetime) -> datetime:
        return self._keep("timer_time", self.inner.timer_time(now, fire_at))

    def outcome(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        return self._keep("outcome", self.inner.outcome(kind, name, value))

    def event_value(self, name: str) -> Any:
        return self._keep("event_value", self.inner.event_value(name))

    def together(self) -> bool:
        return self._keep("together", self.inner.together())

    def flag(self, what: str) -> bool:
        return self._keep("flag", self.inner.flag(what))

    def rerun(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        return self._keep("rerun", self.inner.rerun(kind, name, value))

    def _keep(self, method: str, answer: _A) -> _A:
        self.tape.append((method, answer))
        return answer


@dataclass(slots=True)
class Step:
    """One step of a simulated run: where its events start in the history and what was
    injected before it."""

    start: int
    end: int
    time: datetime
    crashed: bool = False
    duplicates: int = 0


@dataclass
class SimRun:
    """What one simulated run produced.

    Attributes:
        history: the last execution's history.
        previous: histories of earlier executions (each ended with continue-as-new).
        status / output / failure / custom_status / continue_input: how it ended.
        steps: one :class:`Step` per step of the last execution.
        step_count: steps over every execution.
        replayer: the last execution's replayer (what the code created and yielded).
        tape: every answer the source gave, in order.
        stuck: nothing could happen (the instance waits for something nobody sends).
        exhausted: the step budget ran out before the instance ended.
        crashes: steps at which the live generator was dropped.
        wheres: source line of every action, by sequence number (last execution).
    """

    history: list[HistoryEvent]
    status: RuntimeStatus
    output: Any = None
    failure: FailureDetails | None = None
    custom_status: Any = None
    continue_input: Any = None
    previous: list[list[HistoryEvent]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    step_count: int = 0
    replayer: TracingReplayer | None = None
    tape: list[tuple[str, Any]] = field(default_factory=list)
    stuck: bool = False
    exhausted: bool = False
    crashes: list[int] = field(default_factory=list)
    wheres: dict[int, str | None] = field(default_factory=dict)


_FAILURE_TYPE = "ValueError"


def simulate(
    orchestrator: Callable[..., Any],
    input: Any,
    source: Source,
    *,
    name: str = "orchestrator",
    instance_id: str = "simulated",
    events: Sequence[str] = (),
    discover_events: bool = False,
    max_events: int = 3,
    max_steps: int = 40,
    fresh_replay: bool = False,
    follow_continue_as_new: bool = False,
    activity_name: Callable[[Any], str] | None = None,
    orchestrator_name: Callable[[Any], str] | None = None,
) -> SimRun:
    """Run ``orchestrator`` in the simulated world until it ends or ``max_steps`` pass.

    Args:
        orchestrator: the generator function (or a compiled graph's orchestrator).
        input: its input.
        source: decides what happens (see :class:`Source`).
        name / instance_id: recorded in ExecutionStarted.
        events: external event names that may be raised (``max_events`` each at most).
        discover_events: also raise events the code has waited for so far.
        max_steps: the step budget over every execution.
        fresh_replay: replay the whole history with a new replayer at every step.
        follow_continue_as_new: start the next execution after a continue-as-new instead
            of stopping there.
        activity_name / orchestrator_name: how ``call_activity``'s first argument maps to a
            name (default: a string as is, a function by ``__name__``).
    """
    names: dict[str, Any] = {}
    if activity_name is not None:
        names["activity_name"] = activity_name
    if orchestrator_name is not None:
        names["orchestrator_name"] = orchestrator_name
    recorder = _Recorder(source)
    run = SimRun(history=[], status=RuntimeStatus.RUNNING)
    clock = T0
    execution = 1
    carry: list[HistoryEvent] = []
    raised: dict[str, int] = {}
    while True:
        replayer = TracingReplayer(orchestrator, **names)
        started = h.ExecutionStarted(
            timestamp=clock,
            name=name,
            instance_id=instance_id,
            execution_id=f"e{execution}",
            input=input,
        )
        history: list[HistoryEvent] = []
        steps: list[Step] = []
        result = replayer.advance(
            history, [h.OrchestratorStarted(timestamp=clock), started, *carry]
        )
        history.extend(result.new_events)
        steps.append(Step(0, len(history), clock))
        open_tasks: dict[int, Action] = {}
        timers: dict[int, datetime] = {}
        redeliver: list[HistoryEvent] = []
        while not result.is_terminal and run.step_count < max_steps:
            for action in result.actions:
                if isinstance(action, CreateTimer):
                    timers[action.task_id] = action.fire_at
                else:
                    open_tasks[action.task_id] = action
            recorder.begin_step(run.step_count)
            known = list(events)
            if discover_events:
                known += [n for n in dict.fromkeys(replayer.awaited) if n not in known]
            choices = [Choice("task", tid) for tid in sorted(open_tasks)]
            if timers:
                choices.append(Choice("timer", min(timers, key=lambda t: (timers[t], t))))
            choices += [Choice("event", n) for n in known if raised.get(n, 0) < max_events]
            if not choices:
                run.stuck = True
                break
            picked = [choices[recorder.choose(choices)]]
            limit = min(timers.values()) if timers else None
            if len(choices) > 1 and recorder.together():
                rest = [c for c in choices if c != picked[0]]
                picked.append(rest[recorder.choose(rest)])
            new: list[HistoryEvent] = list(redeliver)
            redeliver = []
            first = picked[0]
            if first.kind == "timer":
                clock = recorder.timer_time(clock, timers[first.key])
            else:
                clock = recorder.arrival(clock, limit)
            for choice in picked:
                event, done = _happen(choice, clock, recorder, open_tasks, timers, raised)
                new.append(event)
                if done is not None:
                    if recorder.flag("duplicate"):
                        redeliver.append(event)
                    elif recorder.flag("lease"):
                        redeliver.append(_completion(done, clock, recorder, rerun=True))
            crashed = recorder.flag("crash")
            if fresh_replay or crashed:
                replayer = TracingReplayer(orchestrator, **names)
                if crashed:
                    run.crashes.append(run.step_count)
            begin = len(history)
            result = replayer.advance(history, [h.OrchestratorStarted(timestamp=clock), *new])
            history.extend(result.new_events)
            steps.append(Step(begin, len(history), clock, crashed, len(redeliver)))
            run.step_count += 1
        if (
            follow_continue_as_new
            and result.status is RuntimeStatus.CONTINUED_AS_NEW
            and run.step_count < max_steps
        ):
            run.previous.append(history)
            input = result.continue_input
            carry = list(result.carryover_events)
            execution += 1
            run.step_count += 1
            continue
        break
    run.history = history
    run.steps = steps
    run.replayer = replayer
    run.status = result.status
    run.output = result.output
    run.failure = result.failure
    run.custom_status = result.custom_status
    run.continue_input = result.continue_input
    run.exhausted = not result.is_terminal and not run.stuck
    run.tape = recorder.tape
    run.wheres = {c.action.task_id: c.where for c in replayer.created}
    return run


def _happen(
    choice: Choice,
    clock: datetime,
    source: Source,
    open_tasks: dict[int, Action],
    timers: dict[int, datetime],
    raised: dict[str, int],
) -> tuple[HistoryEvent, Action | None]:
    """The event a choice makes happen, and the action it completes (for results)."""
    if choice.kind == "timer":
        fire_at = timers.pop(choice.key)
        return h.TimerFired(timestamp=clock, task_id=choice.key, fire_at=fire_at), None
    if choice.kind == "event":
        raised[choice.key] = raised.get(choice.key, 0) + 1
        value = source.event_value(choice.key)
        return h.EventRaised(timestamp=clock, name=choice.key, input=value), None
    action = open_tasks.pop(choice.key)
    return _completion(action, clock, source), action


def _completion(
    action: Action, clock: datetime, source: Source, *, rerun: bool = False
) -> HistoryEvent:
    assert isinstance(action, ScheduleActivity | StartSubOrchestration)
    ask = source.rerun if rerun else source.outcome
    ok, value = ask(action.KIND, action.name, action.input)
    task_id = action.task_id
    sub = isinstance(action, StartSubOrchestration)
    if not ok:
        failure = (
            value
            if isinstance(value, FailureDetails)
            else FailureDetails(_FAILURE_TYPE, f"simulated failure of task {task_id}")
        )
        if sub:
            return h.SubOrchestrationInstanceFailed(
                timestamp=clock, task_id=task_id, failure=failure
            )
        return h.TaskFailed(timestamp=clock, task_id=task_id, failure=failure)
    if sub:
        return h.SubOrchestrationInstanceCompleted(timestamp=clock, task_id=task_id, result=value)
    return h.TaskCompleted(timestamp=clock, task_id=task_id, result=value)
