"""Check that a compiled graph behaves exactly like the generator it was compiled from.

:func:`drive` runs one orchestrator through a simulated world with the pure replay executor
(no store, no clock, no threads): at every step a seeded random choice completes or fails an
open activity or sub-orchestration, fires the earliest timer, or raises an external event.
The choices depend only on the seed, the step number and the history so far, so two
orchestrators that behave the same see the same world. :func:`check_equivalence` drives the
generator and the graph with the same seed and compares histories, statuses and outputs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from durableflow.core import history as h
from durableflow.core.actions import CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.history import FailureDetails, HistoryEvent, event_to_dict
from durableflow.core.status import RuntimeStatus
from durableflow.ir.graph import CompiledGraph
from durableflow.runtime.executor import Replayer
from durableflow.runtime.graph_interpreter import graph_orchestrator

__all__ = ["DEFAULT_RESULTS", "Outcome", "World", "check_equivalence", "drive", "event_names"]

DEFAULT_RESULTS: tuple[Any, ...] = (0, 1, 2, 3, 7, 42, "done", "ok", True, False, None, [1, 2])
"""Activity and sub-orchestration results the simulated world picks from."""

_T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    """How the simulated world behaves.

    Attributes:
        seed: Drives every choice.
        events: External event names that may be raised.
        results: Values activities and sub-orchestrations return.
        failure_rate: Chance that a completing task fails instead.
        max_events: Events raised per name at most.
        max_steps: Steps before the run stops (still RUNNING).
        fresh_replay: Replay the whole history with a new replayer at every step (as a worker
            does after a restart or a cache eviction) instead of keeping one alive.
    """

    seed: int
    events: tuple[str, ...] = ()
    results: tuple[Any, ...] = DEFAULT_RESULTS
    failure_rate: float = 0.2
    max_events: int = 3
    max_steps: int = 40
    fresh_replay: bool = False


@dataclass
class Outcome:
    """What one run produced."""

    history: list[dict[str, Any]]
    status: RuntimeStatus
    output: Any = None
    failure: tuple[str, str] | None = None
    custom_status: Any = None
    continue_input: Any = None
    steps: int = 0
    notes: list[str] = field(default_factory=list)


def _normalized(events: Sequence[HistoryEvent]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        data = event_to_dict(event)
        failure = data.get("failure")
        if isinstance(failure, dict):
            failure["stack_trace"] = None  # tracebacks name different frames; types do not
        out.append(data)
    return out


def drive(
    orchestrator: Callable[..., Any],
    input: Any,
    world: World,
    *,
    name: str = "orchestrator",
    activity_name: Callable[[Any], str] | None = None,
    orchestrator_name: Callable[[Any], str] | None = None,
) -> Outcome:
    """Run ``orchestrator`` to completion (or ``world.max_steps``) in the simulated world."""
    kwargs: dict[str, Any] = {}
    if activity_name is not None:
        kwargs["activity_name"] = activity_name
    if orchestrator_name is not None:
        kwargs["orchestrator_name"] = orchestrator_name
    replayer = Replayer(orchestrator, **kwargs)
    clock = _T0
    started = h.ExecutionStarted(
        timestamp=clock, name=name, instance_id="equivalence", execution_id="e1", input=input
    )
    history: list[HistoryEvent] = []
    result = replayer.advance(history, [h.OrchestratorStarted(timestamp=clock), started])
    history.extend(result.new_events)
    open_tasks: dict[int, str] = {}
    timers: dict[int, datetime] = {}
    raised: dict[str, int] = dict.fromkeys(world.events, 0)
    step = 0
    while not result.is_terminal and step < world.max_steps:
        for action in result.actions:
            if isinstance(action, CreateTimer):
                timers[action.task_id] = action.fire_at
            elif isinstance(action, ScheduleActivity | StartSubOrchestration):
                open_tasks[action.task_id] = action.KIND
        rng = random.Random(f"{world.seed}:{step}")
        choices: list[tuple[str, Any]] = [("task", tid) for tid in sorted(open_tasks)]
        if timers:
            choices.append(("timer", min(timers, key=lambda t: (timers[t], t))))
        choices += [("event", n) for n in world.events if raised[n] < world.max_events]
        if not choices:
            break
        what, key = rng.choice(choices)
        if what == "timer":
            fire_at = timers.pop(key)
            clock = max(clock + timedelta(seconds=1), fire_at)
            event: HistoryEvent = h.TimerFired(timestamp=clock, task_id=key, fire_at=fire_at)
        else:
            clock += timedelta(seconds=rng.randint(1, 3600))
            if what == "event":
                raised[key] += 1
                event = h.EventRaised(timestamp=clock, name=key, input=rng.choice(world.results))
            else:
                event = _completion(open_tasks.pop(key), key, clock, rng, world)
        if world.fresh_replay:
            replayer = Replayer(orchestrator, **kwargs)
        result = replayer.advance(history, [h.OrchestratorStarted(timestamp=clock), event])
        history.extend(result.new_events)
        step += 1
    failure = result.failure
    return Outcome(
        history=_normalized(history),
        status=result.status,
        output=result.output,
        failure=(failure.error_type, failure.message) if failure else None,
        custom_status=result.custom_status,
        continue_input=result.continue_input,
        steps=step,
    )


def _completion(
    kind: str, task_id: int, clock: datetime, rng: random.Random, world: World
) -> HistoryEvent:
    fails = rng.random() < world.failure_rate
    failure = FailureDetails("ValueError", f"simulated failure of task {task_id}")
    if kind == "sub_orchestration":
        if fails:
            return h.SubOrchestrationInstanceFailed(
                timestamp=clock, task_id=task_id, failure=failure
            )
        return h.SubOrchestrationInstanceCompleted(
            timestamp=clock, task_id=task_id, result=rng.choice(world.results)
        )
    if fails:
        return h.TaskFailed(timestamp=clock, task_id=task_id, failure=failure)
    return h.TaskCompleted(timestamp=clock, task_id=task_id, result=rng.choice(world.results))


def event_names(graph: CompiledGraph) -> tuple[str, ...]:
    """The external event names a graph waits for, sorted."""
    return tuple(sorted({n.name for n in graph.nodes() if n.kind == "wait_event" and n.name}))


def check_equivalence(
    generator: Callable[..., Any],
    graph: CompiledGraph,
    input: Any,
    world: World,
    *,
    activity_name: Callable[[Any], str] | None = None,
    orchestrator_name: Callable[[Any], str] | None = None,
) -> tuple[Outcome, Outcome]:
    """Drive ``generator`` and ``graph`` through the same world; raise if they differ.

    Raises:
        AssertionError: naming the first differing history event, or the differing status.
    """
    names = {"activity_name": activity_name, "orchestrator_name": orchestrator_name}
    expected = drive(generator, input, world, name=graph.name, **names)
    actual = drive(graph_orchestrator(graph), input, world, name=graph.name, **names)
    for i, (a, b) in enumerate(zip(expected.history, actual.history, strict=False)):
        if a != b:
            raise AssertionError(f"history differs at event {i}:\n generator: {a}\n graph:     {b}")
    if len(expected.history) != len(actual.history):
        raise AssertionError(
            f"history lengths differ: generator {len(expected.history)}, "
            f"graph {len(actual.history)}"
        )
    for attr in ("status", "output", "failure", "custom_status", "continue_input"):
        if getattr(expected, attr) != getattr(actual, attr):
            raise AssertionError(
                f"{attr} differs: generator {getattr(expected, attr)!r}, "
                f"graph {getattr(actual, attr)!r}"
            )
    return expected, actual
