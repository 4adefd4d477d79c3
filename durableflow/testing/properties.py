"""The properties a fuzzed history must keep, each callable on its own.

Each check takes what a simulated run produced (:class:`~durableflow.testing.world.SimRun`)
and returns a :class:`Violation` (what happened, the likely cause, the fix, the sequence
number and the source line) or ``None``:

* :func:`check_strict_replay` (a): replaying every prefix of the history with a fresh
  replayer yields the same actions, with the same names *and inputs*, and the same output;
* :func:`check_crash_equivalence` (c): the same outcomes with crashes, duplicate results and
  expired leases injected give the same actions and output; :func:`check_store_crash_resume`
  does it on the real worker and store, and counts activity runs;
* :func:`check_bounded` (d): the run ended within its step budget;
* :func:`check_nothing_left_open` (e): at completion no task was created and never yielded,
  no timer left uncancelled, no activity or sub-orchestration left unread;
* :func:`check_graph_equivalence` (f): the compiled graph runs the same history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from durableflow.core import history as h
from durableflow.core.actions import CreateTimer
from durableflow.core.app import App
from durableflow.core.history import HistoryDocument, HistoryEvent, event_to_dict
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.tasks import TimerTask
from durableflow.testing.strict_replay import strict_replay
from durableflow.testing.stubs import Sequence as StubSequence
from durableflow.testing.tape import Tape
from durableflow.testing.world import SimRun, Source, simulate

__all__ = [
    "PROPERTIES",
    "Violation",
    "check_bounded",
    "check_crash_equivalence",
    "check_graph_equivalence",
    "check_nothing_left_open",
    "check_store_crash_resume",
    "check_strict_replay",
]

PROPERTIES = {
    "strict-replay": "(a) replaying every prefix gives the same actions, names, inputs, output",
    "process-conditions": "(b) replay under a moved clock, reseeded random, another hash seed",
    "crash-equivalence": "(c) crashes, duplicate results and expired leases change nothing",
    "bounded": "(d) the instance ends within its step budget",
    "nothing-left-open": "(e) no task unyielded, timer uncancelled or result unread at the end",
    "graph-equivalence": "(f) the compiled graph behaves like the generator",
}
"""Property names (as reports and ``durable fuzz`` print them) and what each means."""

_ACTIONS = (h.TaskScheduled, h.TimerCreated, h.SubOrchestrationInstanceCreated)
_ENDINGS = (h.ExecutionCompleted, h.ExecutionFailed, h.ContinuedAsNew)


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken property, in three parts like ``NonDeterminismError``.

    Attributes:
        property: one of :data:`PROPERTIES`.
        what: what happened.
        cause: the likely cause.
        fix: what to do.
        seq: the history position at fault, when there is one.
        where: the source line at fault (``path:line``), when known.
    """

    property: str
    what: str
    cause: str
    fix: str
    seq: int | None = None
    where: str | None = None

    def message(self) -> str:
        """The three parts as one paragraph, with the source line."""
        at = f" (at {self.where})" if self.where else ""
        return f"[{self.property}] {self.what}{at}\n  Likely cause: {self.cause}\n  Fix: {self.fix}"


def comparable(event: HistoryEvent) -> dict[str, Any]:
    """An event as a dict, without what legitimately differs between runs (tracebacks)."""
    data = event_to_dict(event)
    failure = data.get("failure")
    if isinstance(failure, dict):
        data["failure"] = {"error_type": failure["error_type"], "message": failure["message"]}
    return data


def describe(event: HistoryEvent | None) -> str:
    """Short text for an event: its kind, name and input."""
    if event is None:
        return "nothing"
    if isinstance(event, h.TaskScheduled):
        return f"call_activity({event.name!r}, input={event.input!r})"
    if isinstance(event, h.SubOrchestrationInstanceCreated):
        return f"call_sub_orchestrator({event.name!r}, input={event.input!r})"
    if isinstance(event, h.TimerCreated):
        return f"create_timer({event.fire_at.isoformat()})"
    if isinstance(event, h.ExecutionCompleted):
        return f"return {event.result!r}"
    if isinstance(event, h.ExecutionFailed):
        return f"failure {event.failure.error_type}: {event.failure.message.splitlines()[0]}"
    return event.TYPE


def check_strict_replay(
    target: App | Callable[..., Any],
    run: SimRun,
    *,
    name: str,
    what_changed: str = "",
    every_prefix: bool = True,
) -> Violation | None:
    """(a) Replay every prefix of ``run``'s history with a fresh replayer (as a worker does
    after a restart, in this process after the first run, so state left behind in module
    globals shows): each step must create exactly the recorded actions (kind, name,
    input) and the whole history must end as recorded.

    ``target`` is the app (names of activities passed as functions resolve through it) or
    the orchestrator; it may be another version of the code that recorded ``run``
    (``what_changed`` then says so in the report). Built on
    :func:`durableflow.testing.strict_replay.strict_replay` (``every_prefix=False``: a live
    session and one restart only, in O(n)).
    """
    instance = run.history[1] if len(run.history) > 1 else None
    iid = instance.instance_id if isinstance(instance, h.ExecutionStarted) else "fuzzed"
    doc = HistoryDocument(iid, name, list(run.history))
    divergence = strict_replay(target, doc, every_prefix=every_prefix)
    if divergence is None:
        return None
    text = divergence.message()
    what, _, rest = text.partition(" This happens")
    cause, _, fix = rest.partition(" Fix: ")
    seq = None
    if divergence.sequence_number is not None:
        seq = next(
            (
                i
                for i, e in enumerate(run.history)
                if isinstance(e, _ACTIONS) and e.task_id == divergence.sequence_number
            ),
            None,
        )
    where = divergence.line
    if where is None and divergence.sequence_number is not None:
        where = run.wheres.get(divergence.sequence_number)
    prefix = f"{what_changed}: " if what_changed else ""
    return Violation(
        "strict-replay",
        prefix + what,
        ("this happens" + cause).strip().rstrip(".") if cause else "the code is not replayable",
        fix.strip() or "make the orchestrator deterministic",
        seq,
        where,
    )


def _where_of(event: HistoryEvent | None, wheres: dict[int, str | None]) -> str | None:
    task_id = getattr(event, "task_id", None)
    return wheres.get(task_id) if isinstance(task_id, int) else None


def check_crash_equivalence(
    orchestrator: Callable[..., Any],
    input: Any,
    clean: SimRun,
    injections: Source,
    **simulate_args: Any,
) -> tuple[Violation | None, SimRun]:
    """(c) Re-run ``clean``'s outcomes with crashes, duplicate results and expired leases
    from ``injections``: the actions and the output must not change.

    Returns the violation (or None) and the injected run.
    """
    tape = Tape(clean.tape, flags=injections)
    crashed = simulate(orchestrator, input, tape, **simulate_args)
    ours = [comparable(e) for e in clean.history if isinstance(e, _ACTIONS + _ENDINGS)]
    theirs = [comparable(e) for e in crashed.history if isinstance(e, _ACTIONS + _ENDINGS)]
    if ours == theirs and (clean.status, clean.output) == (crashed.status, crashed.output):
        return None, crashed
    index = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
        min(len(ours), len(theirs)),
    )
    first = [e for e in crashed.history if isinstance(e, _ACTIONS + _ENDINGS)]
    clean_actions = [e for e in clean.history if isinstance(e, _ACTIONS + _ENDINGS)]
    a = clean_actions[index] if index < len(clean_actions) else None
    b = first[index] if index < len(first) else None
    seq = crashed.history.index(b) if b is not None else None
    injected = ", ".join(f"step {s}" for s in crashed.crashes) or "none"
    return (
        Violation(
            "crash-equivalence",
            f"with the same outcomes and crashes injected (live generator dropped before "
            f"{injected}), action {index} is {describe(b)} instead of {describe(a)}",
            "the orchestrator behaves differently when it is replayed from history after a "
            "restart: it keeps state outside its local variables (module globals, caches, "
            "class attributes) or reads something that differs between runs",
            "keep everything the orchestrator decides on in its local variables or in "
            "activity results; use ctx.is_replaying only for logging",
            seq,
            _where_of(b, crashed.wheres) or _where_of(a, clean.wheres),
        ),
        crashed,
    )


def check_bounded(run: SimRun, budget: int) -> Violation | None:
    """(d) The run ended (or waits for an event) within ``budget`` steps; otherwise say
    where the loop is: the source lines of the actions that keep repeating."""
    if not run.exhausted:
        return None
    lines = [run.wheres.get(e.task_id) for e in run.history if isinstance(e, _ACTIONS)]
    loop = _repeating_tail([line or "?" for line in lines])
    where = ", ".join(dict.fromkeys(loop)) if loop else None
    return Violation(
        "bounded",
        f"the instance had not ended after {budget} steps ({len(run.history)} events in its "
        f"history); the history looks unbounded"
        + (f": the actions created at {where} keep repeating" if where else ""),
        "a loop whose exit condition never becomes true for these activity results or "
        "events (or one that never waits on anything that can end it)",
        "give the loop a bound (a counter, a deadline from ctx.current_utc_datetime), or "
        "use ctx.continue_as_new for work that is meant to go on forever",
        None,
        loop[0] if loop else None,
    )


def _repeating_tail(lines: Sequence[str]) -> list[str]:
    """The shortest cycle that the end of ``lines`` repeats at least three times."""
    for size in range(1, len(lines) // 3 + 1):
        tail = lines[-size:]
        if all(lines[-size * k - size : len(lines) - size * k] == tail for k in range(1, 3)):
            return list(tail)
    return []


def check_nothing_left_open(run: SimRun) -> Violation | None:
    """(e) At completion: every task was yielded, every timer fired or was cancelled, and
    every activity and sub-orchestration delivered its result."""
    replayer = run.replayer
    if run.status is not RuntimeStatus.COMPLETED or replayer is None:
        return None
    reachable = replayer.reachable()
    for created in replayer.created:
        task, action = created.task, created.action
        if id(task) not in reachable:
            kind = "timer" if isinstance(action, CreateTimer) else action.KIND.replace("_", "-")
            return _open(
                f"a {kind} task ({action.describe()}, sequence number {task.task_id}) was "
                "created but never yielded",
                "a task created for later and forgotten (fire and forget): its result, or its "
                "failure, is never seen",
                "yield the task (alone, or in ctx.task_all / ctx.task_any); if the work "
                "really needs no answer, start it as a sub-orchestration and yield that",
                created.where,
            )
    for created in replayer.created:
        task = created.task
        if task.is_complete:
            continue
        if isinstance(task, TimerTask):
            return _open(
                f"timer {task.task_id} (due {task.fire_at.isoformat()}) lost a race and was "
                "never cancelled",
                "ctx.task_any([...]) raced it against another task that won, and the timer "
                "was left running",
                "call timer.cancel() on the losing timer once the other task wins (or use "
                "wait_for_external_event(name, timeout=...), which cancels it for you)",
                created.where,
            )
        return _open(
            f"{created.action.describe()} (sequence number {task.task_id}) was scheduled "
            "but its result was never read: the orchestrator ended first",
            "a ctx.task_any race whose losing activity keeps running, or a task yielded "
            "only inside a race",
            "wait for every activity you start (ctx.task_all), or do not start work whose "
            "result nobody reads",
            created.where,
        )
    return None


def _open(what: str, cause: str, fix: str, where: str | None) -> Violation:
    return Violation("nothing-left-open", what, cause, fix, None, where)


def check_graph_equivalence(
    graph_orchestrator: Callable[..., Any],
    input: Any,
    run: SimRun,
    **simulate_args: Any,
) -> Violation | None:
    """(f) Run the compiled graph on ``run``'s recorded decisions: same history, same end."""
    from durableflow.testing.equivalence import compare_histories

    graph_run = simulate(graph_orchestrator, input, Tape(run.tape), **simulate_args)
    problem = compare_histories(
        [comparable(e) for e in run.history],
        [comparable(e) for e in graph_run.history],
        (run.status, run.output),
        (graph_run.status, graph_run.output),
    )
    if problem is None:
        return None
    return Violation(
        "graph-equivalence",
        f"the compiled graph and the generator differ on the same history: {problem}",
        "a construct the compiler lowers differently from how Python runs it",
        "report it with this history; meanwhile run the generator (do not register the "
        "graph) for this orchestrator",
    )


def check_store_crash_resume(
    app: App,
    name: str,
    input: Any,
    *,
    activities: Mapping[str, Any] | None = None,
    max_steps: int = 1000,
) -> Violation | None:
    """(c) on the real worker and store: crash the worker after every step (a new worker
    resumes from the store with no live generator), then lose the first activity's result
    (its lease expires and another worker reruns it). The actions and the output must
    equal a clean run's, and no activity whose result was committed may run again: the
    crashed run calls exactly what the clean run calls, the lost-lease run one more.

    Runs :func:`~durableflow.testing.run.run_orchestration`; ``activities`` are its stubs.
    """
    from durableflow.testing.run import run_orchestration

    clean = run_orchestration(app, name, input, activities=activities, max_steps=max_steps)
    if clean.exhausted or clean.stuck:
        return None  # (d) reports an unbounded run; a stuck one has nothing to compare
    crashed = run_orchestration(
        app,
        name,
        input,
        activities=activities,
        max_steps=max_steps,
        crash_after_steps=range(1, clean.steps + 1),
    )
    first = next((e.name for e in clean.history if isinstance(e, h.TaskScheduled)), None)
    lost = None
    # A stub sequence hands its next step to the lost run: the rerun's outcome differs.
    if first is not None and not isinstance((activities or {}).get(first), StubSequence):
        lost = run_orchestration(
            app, name, input, activities=activities, max_steps=max_steps, expire_leases=[first]
        )

    def actions(events: Sequence[HistoryEvent]) -> list[tuple[Any, ...]]:
        # Without times: a lost lease costs its length in virtual time, and timers created
        # after it are due that much later.
        return [
            (e.TYPE, e.task_id, getattr(e, "name", None), getattr(e, "input", None))
            for e in events
            if isinstance(e, _ACTIONS)
        ]

    expected = (actions(clean.history), clean.status, clean.output)
    for label, other, extra in (
        ("a crash after every step", crashed, 0),
        ("a lost lease", lost, 1),
    ):
        if other is None:
            continue
        if (actions(other.history), other.status, other.output) != expected:
            return Violation(
                "crash-equivalence",
                f"on the real worker and store, with {label}, the instance scheduled other "
                f"actions or ended otherwise ({other.status.value}, {other.output!r}) than "
                f"without ({clean.status.value}, {clean.output!r})",
                "the orchestrator behaves differently when replayed from the store by a new "
                "worker: it keeps state outside its local variables or reads something that "
                "differs between runs",
                "keep everything the orchestrator decides on in its local variables or in "
                "activity results",
            )
        if len(other.calls.calls) != len(clean.calls.calls) + extra:
            return Violation(
                "crash-equivalence",
                f"on the real worker and store, with {label}, activities ran "
                f"{len(other.calls.calls)} times instead of {len(clean.calls.calls) + extra}: "
                "a committed result was computed again",
                "a result was not recorded with the step that consumed it, or a step was "
                "committed twice",
                "this is a runtime bug: report it with this orchestrator and input",
            )
    return None
