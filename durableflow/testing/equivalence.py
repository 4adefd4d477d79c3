"""Check that a compiled graph behaves exactly like the generator it was compiled from.

:func:`drive` runs one orchestrator through the simulated world of
:mod:`durableflow.testing.world` with a seeded source: at every step a seeded random choice
completes or fails an open activity or sub-orchestration, fires the earliest timer, or
raises an external event. The choices depend only on the seed, the step number and the
history so far, so two orchestrators that behave the same see the same world.
:func:`check_equivalence` drives the generator and the graph with the same seed and
compares histories, statuses and outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from durableflow.core.history import HistoryEvent, event_to_dict
from durableflow.core.status import RuntimeStatus
from durableflow.ir.graph import CompiledGraph
from durableflow.runtime.graph_interpreter import graph_orchestrator
from durableflow.testing.world import DEFAULT_RESULTS, RandomSource, simulate

__all__ = [
    "DEFAULT_RESULTS",
    "Outcome",
    "World",
    "check_equivalence",
    "compare_histories",
    "drive",
    "event_names",
]


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
    run = simulate(
        orchestrator,
        input,
        RandomSource(world.seed, results=world.results, failure_rate=world.failure_rate),
        name=name,
        instance_id="equivalence",
        events=world.events,
        max_events=world.max_events,
        max_steps=world.max_steps,
        fresh_replay=world.fresh_replay,
        activity_name=activity_name,
        orchestrator_name=orchestrator_name,
    )
    failure = run.failure
    return Outcome(
        history=_normalized(run.history),
        status=run.status,
        output=run.output,
        failure=(failure.error_type, failure.message) if failure else None,
        custom_status=run.custom_status,
        continue_input=run.continue_input,
        steps=run.step_count,
    )


def event_names(graph: CompiledGraph) -> tuple[str, ...]:
    """The external event names a graph waits for, sorted."""
    return tuple(sorted({n.name for n in graph.nodes() if n.kind == "wait_event" and n.name}))


def compare_histories(
    expected: Sequence[dict[str, Any]],
    actual: Sequence[dict[str, Any]],
    expected_end: tuple[Any, ...] = (),
    actual_end: tuple[Any, ...] = (),
) -> str | None:
    """The first difference between a generator's history (and end) and a graph's, as text;
    None when they are the same."""
    for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return f"history differs at event {i}:\n generator: {a}\n graph:     {b}"
    if len(expected) != len(actual):
        return f"history lengths differ: generator {len(expected)}, graph {len(actual)}"
    if expected_end != actual_end:
        return f"the runs end differently: generator {expected_end!r}, graph {actual_end!r}"
    return None


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
    problem = compare_histories(expected.history, actual.history)
    if problem is None:
        for attr in ("status", "output", "failure", "custom_status", "continue_input"):
            if getattr(expected, attr) != getattr(actual, attr):
                problem = (
                    f"{attr} differs: generator {getattr(expected, attr)!r}, "
                    f"graph {getattr(actual, attr)!r}"
                )
                break
    if problem is not None:
        raise AssertionError(problem)
    return expected, actual
