"""``replay_fuzz``: hypothesis generates the histories that break an orchestrator.

Each example draws one block of bytes that a
:class:`~durableflow.testing.entropy.ByteSource` turns into the activity results (from a
stub, a strategy, or the activity's return annotation via ``st.from_type``), the order
in which concurrent tasks complete, when events arrive relative to timers (before, at the
same time, after), failures, and, on a second run over the same outcomes, crash points
(the live generator dropped and the history replayed), duplicate results and expired
leases. Every property of :mod:`durableflow.testing.properties` is checked on it;
hypothesis shrinks a failure to a minimal run, reported as a
:class:`~durableflow.testing.reports.FuzzReport`. After the examples, once per run: crash
equivalence on the real worker and store, and replay under changed process conditions.

Everything per example is in-process and pure (the replay executor on the simulated
world), so an example of a ten-activity chain costs a few milliseconds.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.strategies import SearchStrategy

from durableflow.core.app import App
from durableflow.core.errors import UnknownFunctionError
from durableflow.core.history import HistoryDocument
from durableflow.core.status import RuntimeStatus
from durableflow.testing import properties as props
from durableflow.testing.entropy import (
    JSON_VALUES,
    ByteSource,
    json_only,
    result_strategy,
    value_pool,
)
from durableflow.testing.reports import FuzzReport
from durableflow.testing.stubs import stubbed_app
from durableflow.testing.world import SimRun, simulate

__all__ = [
    "ByteSource",
    "FuzzFailure",
    "FuzzResult",
    "default_examples",
    "recheck_document",
    "replay_fuzz",
]

_DEFAULT_EXAMPLES = 100

# Fixed-size: hypothesis draws a variable-size binary a few bytes long, too few for a run.
# The first half drives the run, the second its injections.
_ENTROPY = st.binary(min_size=256, max_size=256)

PREFIX_SAMPLE = 8
"""Replay every prefix (O(n^2)) on one example in this many; the O(n) replay on others."""


def default_examples() -> int:
    """Examples per orchestrator: ``DURABLE_EXAMPLES`` in the environment (the pytest
    plugin's ``--durable-examples`` sets it), else 100."""
    text = os.environ.get("DURABLE_EXAMPLES")
    return int(text) if text and text.isdigit() else _DEFAULT_EXAMPLES


class FuzzFailure(AssertionError):
    """A property failed; ``report`` holds the shrunk run, its timeline and the saved file."""

    def __init__(self, report: FuzzReport) -> None:
        super().__init__(report.text())
        self.report = report


@dataclass
class FuzzResult:
    """A clean fuzz run: how many examples, how long they took (``seconds``), which
    properties, and how long the once-per-run checks took after them (``after_seconds``:
    the real store, the process conditions)."""

    name: str
    examples: int
    seconds: float
    properties: tuple[str, ...]
    graph_checked: bool = False
    notes: list[str] = field(default_factory=list)
    after_seconds: float = 0.0


@dataclass
class _Target:
    """What fuzzing one orchestrator needs, resolved once."""

    name: str
    fn: Callable[..., Any]
    names: dict[str, Any]
    pools: dict[str, list[Any]]
    stubs: dict[str, Any]
    event_pool: list[Any]
    graph_fn: Callable[..., Any] | None
    previous_fn: Callable[..., Any] | None
    events: tuple[str, ...]
    max_steps: int
    app: App

    def sim_args(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "instance_id": f"fuzz-{self.name}",
            "events": self.events,
            "discover_events": True,
            "max_steps": self.max_steps,
            "follow_continue_as_new": True,
            **self.names,
        }


def _target(
    app: App,
    name: str,
    activities: Mapping[str, Any] | None,
    events: Iterable[str],
    max_steps: int,
    graph: bool,
    previous: App | None,
) -> _Target:
    fn = app.orchestrators.get(name)
    if fn is None:
        raise UnknownFunctionError("orchestrator", name, list(app.orchestrators))
    results: dict[str, SearchStrategy[Any]] = {}
    stubs: dict[str, Any] = {}
    for activity, real in app.activities.items():
        results[activity] = result_strategy(real, activity)
    for activity, stub in (activities or {}).items():
        if isinstance(stub, SearchStrategy):
            results[activity] = json_only(stub, f"result of activity {activity!r}")
        else:
            stubs[activity] = stub
    pools = {activity: _pool(strategy) for activity, strategy in results.items()}
    graph_fn = _compiled(fn, name) if graph else None
    previous_fn = previous.orchestrators.get(name) if previous is not None else None
    names = {"activity_name": app.name_of, "orchestrator_name": app.name_of}
    return _Target(
        name,
        fn,
        names,
        pools,
        stubs,
        _pool(JSON_VALUES),
        graph_fn,
        previous_fn,
        tuple(events),
        max_steps,
        _generator_app(app),
    )


_POOLS: dict[int, list[Any]] = {}


def _pool(strategy: SearchStrategy[Any]) -> list[Any]:
    """One pool per strategy object and process (the annotations' strategies are cached)."""
    key = id(strategy)
    if key not in _POOLS:
        _POOLS[key] = value_pool(strategy)
    return _POOLS[key]


def _generator_app(app: App) -> App:
    """``app`` with its generators only: strict replay must run the generator even where a
    compiled graph is registered under the same name."""
    copy_app, _ = stubbed_app(app, None)
    copy_app.graphs.clear()
    return copy_app


_GRAPHS: dict[tuple[str, str, float], Callable[..., Any] | None] = {}


def _compiled(fn: Callable[..., Any], name: str) -> Callable[..., Any] | None:
    """The compiled graph's orchestrator for ``fn``, or None where it does not compile."""
    path = inspect.getsourcefile(fn)
    if path is None:
        return None
    if not os.path.exists(path):
        return None
    key = (path, name, os.path.getmtime(path))
    if key not in _GRAPHS:
        from durableflow.compiler import CompileFailed, compile_file
        from durableflow.runtime.graph_interpreter import graph_orchestrator

        found: Callable[..., Any] | None = None
        try:
            for graph in compile_file(Path(path)):
                if graph.name in (name, fn.__name__):
                    found = graph_orchestrator(graph)
        except (CompileFailed, OSError, SyntaxError):
            found = None
        _GRAPHS[key] = found
    return _GRAPHS[key]


def check_example(
    target: _Target,
    input: Any,
    entropy: bytes,
    injections: bytes,
    *,
    every_prefix: bool = True,
    kept: dict[Any, tuple[Any, SimRun]] | None = None,
) -> FuzzReport | None:
    """Run one example through every in-process property; the first violation, or None.
    Distinct clean histories go into ``kept`` (for the process conditions, afterwards).

    ``every_prefix=False`` replays the history two ways only (a live session and one
    restart, O(n)) instead of every prefix (O(n^2)); the crash run, which restarts at
    drawn steps, covers the other prefixes at random.
    """
    args = target.sim_args()
    pools, stubs, events = target.pools, target.stubs, target.event_pool
    clean = simulate(target.fn, input, ByteSource(entropy, pools, stubs, events), **args)
    violation = props.check_bounded(clean, target.max_steps)
    if violation is None:
        violation = props.check_strict_replay(
            target.app, clean, name=target.name, every_prefix=every_prefix
        )
    if violation is None:
        violation = props.check_nothing_left_open(clean)
    if violation is not None:
        return FuzzReport(target.name, violation, clean, clean, input)
    if kept is not None:
        _keep_for_conditions(kept, input, clean)
    inject = ByteSource(injections, pools, stubs, events, inject=True)
    violation, crashed = props.check_crash_equivalence(target.fn, input, clean, inject, **args)
    if violation is not None:
        injected = [(m, a) for m, a in crashed.tape if m in ("flag", "rerun")]
        return FuzzReport(target.name, violation, crashed, clean, input, injected)
    if target.previous_fn is not None:
        old_source = ByteSource(entropy, pools, {}, events)
        old = simulate(target.previous_fn, input, old_source, **args)
        violation = props.check_strict_replay(
            target.app,
            old,
            name=target.name,
            what_changed="a history recorded by the previous version, replayed by this one",
        )
        if violation is not None:
            return FuzzReport(target.name, violation, old, old, input)
    if target.graph_fn is not None:
        violation = props.check_graph_equivalence(target.graph_fn, input, clean, **args)
        if violation is not None:
            return FuzzReport(target.name, violation, clean, clean, input)
    return None


def replay_fuzz(
    app: App,
    name: str,
    input: Any = None,
    *,
    examples: int | None = None,
    seed: int | None = None,
    activities: Mapping[str, Any] | None = None,
    events: Iterable[str] = (),
    max_steps: int = 200,
    graph: bool = True,
    previous: App | None = None,
    save_to: str | Path | None = None,
    on_example: Callable[[], None] | None = None,
    conditions: bool = True,
    app_ref: str | None = None,
    store_check: bool = True,
) -> FuzzResult:
    """Fuzz orchestrator ``name`` of ``app``; raise :class:`FuzzFailure` on the first
    broken property, after shrinking it to a minimal run.

    Args:
        app: the app; activities are never run (results are drawn or stubbed).
        name: the orchestrator.
        input: its input, or a hypothesis strategy of inputs.
        examples: how many examples (default :func:`default_examples`).
        seed: the hypothesis seed (default: derandomized, the same on every run).
        activities: per activity name, a strategy of results, or a stub (value,
            function, exception, ``sequence(...)``); others draw from their return
            annotation.
        events: external event names to raise besides those the code waits for.
        max_steps: the step budget of one run (more: the run looks unbounded).
        graph: also check the compiled graph where the orchestrator compiles.
        previous: the app as deployed before this change: its histories, replayed by the
            current code, must not diverge (a changed orchestrator breaks in-flight
            instances).
        save_to: folder to save a failing history into (default: ``.durable-fuzz/``).
        on_example: called after every example (progress bars).
        conditions: once the examples pass, replay the shortest of their histories under
            changed process conditions (property (b): wall clock moved, ``random``
            reseeded, same process again, another ``PYTHONHASHSEED`` in one subprocess).
        app_ref: ``module:attribute`` of ``app`` for that subprocess (default: found
            from the orchestrator's module; (b) is skipped when it cannot be).
        store_check: once the examples pass, also run crash equivalence on the real worker
            and store (:func:`~durableflow.testing.properties.check_store_crash_resume`),
            every activity stubbed with the simplest value of its pool.

    Raises:
        FuzzFailure: with the report (also saved as JSON for ``durable replay``).
        UnknownFunctionError: no orchestrator ``name``.
    """
    target = _target(app, name, activities, events, max_steps, graph, previous)
    count = examples if examples is not None else default_examples()
    inputs: SearchStrategy[Any] = input if isinstance(input, SearchStrategy) else st.just(input)
    found: list[FuzzReport] = []
    ran = {"n": 0}
    kept: dict[Any, tuple[Any, SimRun]] = {}

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=seed is None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
    )
    @given(inputs, _ENTROPY)
    def example(value: Any, entropy: bytes) -> None:
        # Every prefix on one example in PREFIX_SAMPLE, the O(n) replay on the rest; the
        # choice is the last byte's, so an example always gets the same (shrunk: every).
        full = entropy[-1] % PREFIX_SAMPLE == 0
        half = len(entropy) // 2
        report = check_example(
            target, value, entropy[:half], entropy[half:], every_prefix=full, kept=kept
        )
        ran["n"] += 1
        if on_example is not None:
            on_example()
        if report is not None:
            found[:] = [report]
            raise _Broken(report.violation.property)

    test = hypothesis_seed(seed)(example) if seed is not None else example
    began = time.perf_counter()
    try:
        test()
    except (_Broken, Flaky):
        if not found:
            raise
        report = found[0]
        report.settings = {"max_steps": max_steps, "events": list(target.events)}
        report.app_ref = app_ref or _app_ref(app, target.fn)
        if not isinstance(sys.exc_info()[1], _Broken):
            report.notes.append(
                "not shrunk: the same decisions did not fail again in this process, so the "
                "orchestrator depends on state that earlier runs left behind (module-level "
                "variables, caches) or on something else outside its history"
            )
        report.save(Path(save_to) if save_to is not None else Path(".durable-fuzz"))
        raise FuzzFailure(report) from None
    examples_seconds = time.perf_counter() - began
    checked = [p for p in props.PROPERTIES if p != "process-conditions"]
    notes: list[str] = []
    if store_check:
        values = [v for v, _ in kept.values()] if isinstance(input, SearchStrategy) else [input]
        stored = _check_store(app, target, values[0]) if values else None
        if stored is not None:
            stored.settings = {"max_steps": max_steps, "events": [], "store": True}
            stored.app_ref = app_ref or _app_ref(app, target.fn)
            stored.save(Path(save_to) if save_to is not None else Path(".durable-fuzz"))
            raise FuzzFailure(stored)
    ref = app_ref or _app_ref(app, target.fn)
    if conditions and ref is None:
        notes.append("process conditions not checked: the app has no module:attribute name")
    if conditions and ref is not None and kept:
        checked.append("process-conditions")
        broken = _check_conditions(ref, target, kept)
        if broken is not None:
            broken.settings = {"max_steps": max_steps, "events": list(target.events)}
            broken.app_ref = ref
            broken.save(Path(save_to) if save_to is not None else Path(".durable-fuzz"))
            raise FuzzFailure(broken)
    return FuzzResult(
        name,
        ran["n"],
        examples_seconds,
        tuple(checked),
        graph_checked=target.graph_fn is not None,
        notes=notes,
        after_seconds=time.perf_counter() - began - examples_seconds,
    )


def _check_store(app: App, target: _Target, value: Any) -> FuzzReport | None:
    """Crash equivalence on the real worker and store, activities stubbed with the
    simplest value of each pool (the timeline shown is the same run in the world)."""
    fixed = {a: pool[0] for a, pool in target.pools.items()} | target.stubs
    violation = props.check_store_crash_resume(app, target.name, value, activities=fixed)
    if violation is None:
        return None
    source = ByteSource(b"", target.pools, target.stubs, target.event_pool)
    run = simulate(target.fn, value, source, **target.sim_args())
    report = FuzzReport(target.name, violation, run, run, value)
    report.notes.append("found on the real worker and store; the timeline is the same run")
    return report


CONDITION_HISTORIES = 12
"""Clean histories (distinct, spread over their lengths) replayed under changed process
conditions."""


def _keep_for_conditions(kept: dict[Any, tuple[Any, SimRun]], input: Any, run: SimRun) -> None:
    """Keep the first runs of each distinct shape (event kinds, task ids, names)."""
    if not run.history or run.previous or len(kept) >= 4 * CONDITION_HISTORIES:
        return
    key = tuple(
        (e.TYPE, getattr(e, "task_id", None), getattr(e, "name", None)) for e in run.history
    )
    kept.setdefault(key, (input, run))


def _check_conditions(
    ref: str, target: _Target, kept: dict[Any, tuple[Any, SimRun]]
) -> FuzzReport | None:
    from durableflow.testing.conditions import check_process_conditions

    # Spread over every length, shortest first: the shortest make the smallest report, but
    # only the longer ones reach the later actions (a short history that failed at its
    # first activity shows a set's first element only).
    ordered = sorted(kept.values(), key=lambda item: len(item[1].history))
    step = max(1, len(ordered) / CONDITION_HISTORIES)
    runs = [ordered[int(i * step)] for i in range(min(CONDITION_HISTORIES, len(ordered)))]
    if ordered and ordered[-1] not in runs:
        runs[-1] = ordered[-1]
    docs = [HistoryDocument(f"fuzz-{target.name}", target.name, list(r.history)) for _, r in runs]
    failures = check_process_conditions(ref, target.name, docs)
    if not failures:
        return None
    failure = failures[0]
    value, run = runs[failure.history_index]
    divergence = failure.divergence
    violation = props.Violation(
        "process-conditions",
        f"replayed {failure.condition.describe()}, the history diverges: {divergence.what()}",
        failure.condition.likely_cause.rstrip("."),
        failure.condition.fix,
        None,
        divergence.line,
    )
    return FuzzReport(target.name, violation, run, run, value)


def _app_ref(app: App, fn: Callable[..., Any]) -> str | None:
    """``module:attribute`` naming ``app``, looked up in the orchestrator's module."""
    module = sys.modules.get(getattr(fn, "__module__", ""))
    if module is None or module.__name__ == "__main__":
        return None
    for attr, value in vars(module).items():
        if value is app:
            return f"{module.__name__}:{attr}"
    return None


class _Broken(Exception):
    """Raised inside an example so hypothesis shrinks it; the report is kept aside."""


RECHECK_REPLAYS = 16
"""How many times :func:`recheck_document` replays a saved strict-replay failure."""


def recheck_document(
    app: App, data: Mapping[str, Any], app_ref: str | None = None
) -> props.Violation | None:
    """Re-run a saved fuzz failure (``FuzzReport.document()``) against ``app``'s current
    code: the property it broke, on the same decisions; the violation, or None if fixed.

    Raises:
        UnknownFunctionError: ``app`` has no orchestrator of the document's name.
        HistoryFormatError: the document is not a saved fuzz failure.
    """
    from durableflow.core.errors import HistoryFormatError
    from durableflow.core.history import event_from_dict
    from durableflow.testing.reports import decode_tape
    from durableflow.testing.tape import Tape

    fuzz = data.get("fuzz")
    name = data.get("name")
    if not isinstance(fuzz, dict) or not isinstance(name, str):
        raise HistoryFormatError('not a saved fuzz failure (no "fuzz" section)')
    prop = fuzz.get("property")
    config = fuzz.get("settings") or {}
    max_steps = int(config.get("max_steps", 200))
    target = _target(app, name, None, config.get("events", ()), max_steps, True, None)
    args = target.sim_args()
    value = fuzz.get("input")
    tape = decode_tape(fuzz.get("tape", []))
    events = [event_from_dict(e, "history") for e in data.get("events", [])]
    recorded = SimRun(history=events, status=RuntimeStatus.RUNNING)
    if prop == "strict-replay":
        # Code that reads a clock or `random` can agree with its history by chance on one
        # replay (a random pick of three matches one time in three), so a fix is believed
        # only after every one of several replays agrees.
        for _ in range(RECHECK_REPLAYS):
            violation = props.check_strict_replay(target.app, recorded, name=name)
            if violation is not None:
                return violation
        return None
    if prop == "process-conditions":
        ref = app_ref or data["fuzz"].get("app")
        if not isinstance(ref, str):
            raise HistoryFormatError("re-checking process conditions needs --app module:app")
        kept = {"saved": (value, recorded)}
        report = _check_conditions(ref, target, kept)
        return report.violation if report is not None else None
    clean = simulate(target.fn, value, Tape(tape), **args)
    if prop == "bounded":
        return props.check_bounded(clean, max_steps)
    if prop == "nothing-left-open":
        return props.check_nothing_left_open(clean)
    if prop == "crash-equivalence" and config.get("store"):
        report = _check_store(app, target, value)
        return report.violation if report is not None else None
    if prop == "crash-equivalence":
        injections = Tape([], flags=decode_tape(fuzz.get("injections", [])))
        return props.check_crash_equivalence(target.fn, value, clean, injections, **args)[0]
    if prop == "graph-equivalence" and target.graph_fn is not None:
        return props.check_graph_equivalence(target.graph_fn, value, clean, **args)
    raise HistoryFormatError(f"unknown fuzz property {prop!r} in the saved failure")
