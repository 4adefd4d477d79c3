"""Replay under changed process conditions: the bugs a single replay cannot see.

A history that replays cleanly right after it was recorded can still break a worker
that replays it later, elsewhere: hours later (code that branches on the wall clock),
after a restart (``random`` in another state, module-level state gone or left behind) or
in another interpreter (a set of strings iterated in another order: ``str`` hashes change
with ``PYTHONHASHSEED``). :func:`check_process_conditions` replays the same histories
with :func:`~durableflow.testing.strict_replay.strict_replay` under each condition:

* again in this process, after the first run (state left behind);
* with the wall clock moved by hours and by seconds (``time-machine``, which patches the
  C-level clock functions, so ``from datetime import datetime as dt`` in a helper module
  is moved too);
* with ``random`` reseeded;
* in a fresh interpreter with another ``PYTHONHASHSEED``: one subprocess for all the
  histories (:mod:`durableflow.testing.subprocess_replay`).

Each condition is also a function of its own. A divergence is attributed to the most
specific condition that explains it (see :func:`check_process_conditions`).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from durableflow.core.app import App
from durableflow.core.history import HistoryDocument
from durableflow.testing.strict_replay import (
    Divergence,
    HistorySource,
    load_history,
    strict_replay,
)
from durableflow.testing.subprocess_replay import (
    ProcessConditionsError,
    import_app,
    other_hash_seed,
    start_replays,
)

__all__ = [
    "DEFAULT_CLOCK_SHIFTS",
    "DEFAULT_RANDOM_SEEDS",
    "Condition",
    "ConditionFailure",
    "ProcessConditionsError",
    "check_process_conditions",
    "import_app",
    "other_hash_seed",
    "replay_in_fresh_interpreters",
    "replay_in_this_process",
    "replay_with_clock_shifts",
    "replay_with_random_seeds",
]

DEFAULT_CLOCK_SHIFTS: tuple[timedelta, ...] = (
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=12),
    timedelta(hours=16),
    timedelta(hours=20),
    timedelta(seconds=1),
    timedelta(seconds=30),
)
"""Every 4 hours round the clock (a branch on the hour flips under one of them) and two
shifts by seconds (code that rounds the time to seconds)."""

DEFAULT_RANDOM_SEEDS: tuple[int, ...] = (1, 2, 3)
"""Seeds for ``random.seed``; a 50/50 ``random.choice`` escapes all three 1 time in 8."""

ConditionKind = Literal["same-process", "clock", "random-seed", "hash-seed"]

_CAUSES: dict[str, tuple[str, str]] = {
    "same-process": (
        "state left behind by an earlier run: a module-level counter, cache or list, a "
        "class attribute or a mutable default argument that the orchestrator, or a helper "
        "it calls, changes; or a value that differs on every call (uuid4, the time with "
        "sub-second precision, random).",
        "keep state in the orchestrator's local variables and its input (pass it on with "
        "continue_as_new); get ids from ctx.new_uuid() and time from "
        "ctx.current_utc_datetime.",
    ),
    "clock": (
        "the orchestrator, or a helper it calls under whatever name, reads the wall clock "
        "(datetime.now(), datetime.utcnow(), date.today(), time.time(), time.localtime()) "
        "and branches on it or passes it on.",
        "use ctx.current_utc_datetime, which is the recorded time of the step on every replay.",
    ),
    "random-seed": (
        "the orchestrator, or a helper it calls, draws from the `random` module, whose "
        "state differs on every replay.",
        "draw the value in an activity (its result is recorded), or use a generator seeded "
        "from the instance, e.g. random.Random(str(ctx.new_uuid())).",
    ),
    "hash-seed": (
        "the orchestrator, or a helper it calls, iterates over a set or frozenset of "
        "strings (or uses hash() of a str), whose order changes with PYTHONHASHSEED; or "
        "it relies on state that a fresh process does not have.",
        "iterate over sorted(the_set) or keep the items in a list.",
    ),
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One way the replaying process differs from the recording one.

    Attributes:
        kind: ``"same-process"``, ``"clock"``, ``"random-seed"`` or ``"hash-seed"``.
        value: the clock shift in seconds, the ``random`` seed or the ``PYTHONHASHSEED``
            (``None`` for ``same-process``).
    """

    kind: ConditionKind
    value: float | int | None = None

    def describe(self) -> str:
        """The condition as a phrase: ``with the wall clock moved by +4h``."""
        if self.kind == "same-process":
            return "replayed again in the same process, after the first run"
        if self.kind == "clock":
            return f"with the wall clock moved by {_shift_text(float(self.value or 0))}"
        if self.kind == "random-seed":
            return f"with `random` reseeded (random.seed({self.value}))"
        return f"in a fresh interpreter with PYTHONHASHSEED={self.value}"

    @property
    def likely_cause(self) -> str:
        """What usually makes a replay diverge under this condition."""
        return _CAUSES[self.kind][0]

    @property
    def fix(self) -> str:
        """What to do about it."""
        return _CAUSES[self.kind][1]


@dataclass(frozen=True, slots=True)
class ConditionFailure:
    """A condition under which recorded histories no longer replay.

    Attributes:
        condition: the condition.
        history_index: the first failing history, as an index into the histories given.
        divergence: that history's first divergence under the condition.
        history_indexes: every history that failed under the condition, in order.
    """

    condition: Condition
    history_index: int
    divergence: Divergence
    history_indexes: tuple[int, ...] = field(default=())

    def message(self) -> str:
        """What happened, the likely cause and the fix."""
        more = len(self.history_indexes) - 1
        also = f" ({more} more histories fail the same way)" if more > 0 else ""
        return (
            f"Replayed {self.condition.describe()}, history #{self.history_index}{also} "
            f"diverges: {self.divergence.what()} Likely cause: "
            f"{self.condition.likely_cause} Fix: {self.condition.fix}"
        )


def replay_in_this_process(
    app: App, histories: Sequence[HistorySource], *, every_prefix: bool = False
) -> list[ConditionFailure]:
    """Replay every history again in this process; the ``same-process`` failure, if any.

    Call it after the histories were recorded in this process: module-level state the
    recording changed is still there.

    Args:
        app: the app that registers the histories' orchestrators.
        histories: recorded histories (see
            :data:`~durableflow.testing.strict_replay.HistorySource`).
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`
            (default: the O(n) route).
    """
    docs = [load_history(x) for x in histories]
    found = _replay_all(app, docs, every_prefix)
    return _failures(Condition("same-process"), found)


def replay_with_clock_shifts(
    app: App,
    histories: Sequence[HistorySource],
    shifts: Iterable[timedelta] = DEFAULT_CLOCK_SHIFTS,
    *,
    every_prefix: bool = False,
) -> list[ConditionFailure]:
    """Replay every history once per shift, with the wall clock moved by that much.

    The clock keeps ticking from the moved time; it is restored afterwards. Every thread
    of the process sees the moved clock while a replay runs.

    Args:
        app: the app that registers the histories' orchestrators.
        histories: recorded histories.
        shifts: how far to move the wall clock, one replay of every history each.
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`.

    Returns:
        One failure per shift under which some history diverges.
    """
    # Imported here: time_machine loads pytest for its fixture, which a subprocess that
    # only replays should not pay for.
    import time_machine

    docs = [load_history(x) for x in histories]
    out: list[ConditionFailure] = []
    for shift in shifts:
        with time_machine.travel(shift, tick=True):
            found = _replay_all(app, docs, every_prefix)
        out += _failures(Condition("clock", shift.total_seconds()), found)
    return out


def replay_with_random_seeds(
    app: App,
    histories: Sequence[HistorySource],
    seeds: Iterable[int] = DEFAULT_RANDOM_SEEDS,
    *,
    every_prefix: bool = False,
    require_seed_determined: bool = False,
) -> list[ConditionFailure]:
    """Replay every history once per seed, right after ``random.seed(seed)``.

    The state of ``random`` is restored afterwards.

    Args:
        app: the app that registers the histories' orchestrators.
        histories: recorded histories.
        seeds: seeds for ``random.seed``, one replay of every history each.
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`.
        require_seed_determined: count a divergence only if a second replay under the same
            seed diverges identically: then ``random`` is what decides it (and not, say,
            a module-level counter that moves on every run).

    Returns:
        One failure per seed under which some history diverges.
    """
    docs = [load_history(x) for x in histories]
    state = random.getstate()
    out: list[ConditionFailure] = []
    try:
        for seed in seeds:
            found: list[Divergence | None] = []
            for doc in docs:
                random.seed(seed)
                d = strict_replay(app, doc, every_prefix=every_prefix)
                if d is not None and require_seed_determined:
                    random.seed(seed)
                    if strict_replay(app, doc, every_prefix=every_prefix) != d:
                        d = None
                found.append(d)
            out += _failures(Condition("random-seed", seed), found)
    finally:
        random.setstate(state)
    return out


def replay_in_fresh_interpreters(
    app_ref: str,
    name: str,
    histories: Sequence[HistorySource],
    *,
    hash_seeds: Sequence[int] | None = None,
    every_prefix: bool = False,
    timeout: float = 300.0,
) -> list[ConditionFailure]:
    """Replay every history in a fresh interpreter per hash seed (one subprocess each).

    All the histories go to the subprocess in one temporary JSON file; it imports
    ``app_ref``, replays each with strict replay and writes the divergences back. The
    subprocesses (one per seed) run at the same time.

    Args:
        app_ref: the app as ``module:attribute``, importable with this process's
            ``sys.path`` from the current directory.
        name: the orchestrator the histories are of.
        histories: recorded histories.
        hash_seeds: ``PYTHONHASHSEED`` values, one subprocess each (default: one,
            :func:`other_hash_seed`). A set of two strings keeps its order under another
            seed half the time; pass more seeds to lower the odds of missing it.
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`.
        timeout: seconds to wait for the subprocesses.

    Raises:
        ProcessConditionsError: a subprocess failed (its error output is in the message)
            or did not finish within ``timeout``.
    """
    docs = _docs_of(name, histories)
    seeds = list(hash_seeds) if hash_seeds is not None else [other_hash_seed()]
    with tempfile.TemporaryDirectory(prefix="durableflow-conditions-") as tmp:
        running = [
            start_replays(app_ref, name, docs, seed, every_prefix, Path(tmp)) for seed in seeds
        ]
        out: list[ConditionFailure] = []
        for seed, wait in zip(seeds, running, strict=True):
            out += _failures(Condition("hash-seed", seed), wait(timeout))
    return out


def check_process_conditions(
    app_ref: str,
    name: str,
    histories: Sequence[HistorySource],
    *,
    clock_shifts: Iterable[timedelta] = DEFAULT_CLOCK_SHIFTS,
    random_seeds: Iterable[int] = DEFAULT_RANDOM_SEEDS,
    hash_seeds: Sequence[int] | None = None,
    every_prefix: bool = False,
    fresh_interpreter: bool = True,
    timeout: float = 300.0,
) -> list[ConditionFailure]:
    """Replay ``histories`` under every condition; each failure names its condition.

    Call it in the process that recorded the histories, after recording. The fresh
    interpreter starts first and replays while this process runs the rest. A divergence
    is blamed on the most specific condition that explains it, so each failure points at
    one cause:

    * ``random-seed``: the history diverges under a seed, identically on a second replay
      under that seed (``random`` decides it); such a history is not also reported as
      ``same-process``;
    * ``same-process``: it diverges when replayed again with nothing changed;
    * ``clock``: it replays cleanly with nothing changed, but not with the clock moved;
    * ``hash-seed``: it replays cleanly under every condition in this process, but not
      in the fresh interpreter.

    Args:
        app_ref: the app as ``module:attribute`` (the subprocess imports it too).
        name: the orchestrator the histories are of.
        histories: recorded histories.
        clock_shifts: see :func:`replay_with_clock_shifts`.
        random_seeds: see :func:`replay_with_random_seeds`.
        hash_seeds: see :func:`replay_in_fresh_interpreters`.
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`
            (default: the O(n) route, for every condition).
        fresh_interpreter: ``False`` skips the subprocess.
        timeout: seconds to wait for the subprocess.

    Returns:
        The failures, same-process first, then clock, random and hash seed; empty when
        every history replays under every condition.

    Raises:
        ProcessConditionsError: the app does not import, or a subprocess failed.
        ValueError: a history is of another orchestrator than ``name``.
    """
    app = import_app(app_ref)
    docs = _docs_of(name, histories)
    seeds = list(hash_seeds) if hash_seeds is not None else [other_hash_seed()]
    if not fresh_interpreter:
        seeds = []
    with tempfile.TemporaryDirectory(prefix="durableflow-conditions-") as tmp:
        running = [start_replays(app_ref, name, docs, s, every_prefix, Path(tmp)) for s in seeds]
        same = _replay_all(app, docs, every_prefix)
        random_failures = replay_with_random_seeds(
            app, docs, random_seeds, every_prefix=every_prefix, require_seed_determined=True
        )
        by_random = {i for f in random_failures for i in f.history_indexes}
        same = [None if i in by_random else d for i, d in enumerate(same)]
        clean = [i for i, d in enumerate(same) if d is None and i not in by_random]
        clock_failures = _remap(
            replay_with_clock_shifts(
                app, [docs[i] for i in clean], clock_shifts, every_prefix=every_prefix
            ),
            clean,
        )
        by_clock = {i for f in clock_failures for i in f.history_indexes}
        hash_failures: list[ConditionFailure] = []
        for seed, wait in zip(seeds, running, strict=True):
            found = wait(timeout)
            kept = [d if i in clean and i not in by_clock else None for i, d in enumerate(found)]
            hash_failures += _failures(Condition("hash-seed", seed), kept)
    return [
        *_failures(Condition("same-process"), same),
        *clock_failures,
        *random_failures,
        *hash_failures,
    ]


# -- helpers ----------------------------------------------------------------------------


def _docs_of(name: str, histories: Sequence[HistorySource]) -> list[HistoryDocument]:
    docs = [load_history(x) for x in histories]
    for i, doc in enumerate(docs):
        if doc.name != name:
            raise ValueError(
                f"history #{i} (instance {doc.instance_id!r}) is of orchestration "
                f"{doc.name!r}, not {name!r}; check the histories of one orchestrator at a "
                "time"
            )
    return docs


def _replay_all(
    app: App, docs: Sequence[HistoryDocument], every_prefix: bool
) -> list[Divergence | None]:
    return [strict_replay(app, doc, every_prefix=every_prefix) for doc in docs]


def _failures(condition: Condition, found: Sequence[Divergence | None]) -> list[ConditionFailure]:
    failing = tuple(i for i, d in enumerate(found) if d is not None)
    if not failing:
        return []
    first = found[failing[0]]
    assert first is not None
    return [ConditionFailure(condition, failing[0], first, failing)]


def _remap(failures: list[ConditionFailure], indexes: Sequence[int]) -> list[ConditionFailure]:
    """Failures found on a subset of the histories, with indexes into the full list."""
    return [
        ConditionFailure(
            f.condition,
            indexes[f.history_index],
            f.divergence,
            tuple(indexes[i] for i in f.history_indexes),
        )
        for f in failures
    ]


def _shift_text(seconds: float) -> str:
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{sign}{seconds / 3600:g}h"
    return f"{sign}{seconds:g}s"
