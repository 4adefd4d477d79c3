"""Where fuzzed decisions come from: one block of hypothesis-drawn bytes per example, and
pools of activity results generated once per fuzz run.

A hypothesis draw costs about half a millisecond and an example has dozens of decisions,
so each example draws one fixed-size ``st.binary`` and :class:`ByteSource` reads every
decision from it, a byte or two each. Results come from a pool per activity: up to
:data:`POOL_SIZE` values of its strategy (from a stub, or ``st.from_type`` of its return
annotation), generated once and sorted simplest first. Hypothesis still shrinks the
bytes, so a shrunk run takes the first choice, no failure and the simplest value.
"""

from __future__ import annotations

import copy
import inspect
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import ResolutionFailed
from hypothesis.strategies import SearchStrategy

from durableflow.core import payload
from durableflow.core.history import FailureDetails
from durableflow.testing.stubs import Sequence as StubSequence
from durableflow.testing.world import Choice

__all__ = ["JSON_VALUES", "POOL_SIZE", "ByteSource", "result_strategy", "value_pool"]

JSON_VALUES: SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
"""Payloads for activities without an annotation, and for external events."""


def json_only(strategy: SearchStrategy[Any], where: str) -> SearchStrategy[Any]:
    """``strategy`` restricted to (and normalized as) JSON payloads."""

    def ok(value: Any) -> bool:
        try:
            payload.normalize(value, where)
        except Exception:
            return False
        return True

    return strategy.filter(ok).map(lambda v: payload.normalize(v, where))


def result_strategy(fn: Callable[..., Any] | None, name: str) -> SearchStrategy[Any]:
    """Results for activity ``name``: ``st.from_type`` of its return annotation when it has
    one hypothesis can resolve to JSON, else small JSON values."""
    if fn is None:
        return JSON_VALUES
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    annotation = hints.get("return", inspect.Signature.empty)
    if annotation in (inspect.Signature.empty, Any, object, None, type(None)):
        return st.none() if annotation in (None, type(None)) else JSON_VALUES
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    try:
        strategy = st.from_type(annotation)
        strategy.validate()
    except (ResolutionFailed, TypeError, Exception):
        return JSON_VALUES
    return json_only(strategy, f"result of activity {name!r}")


class ByteSource:
    """A world source that reads every decision from hypothesis-drawn bytes.

    One ``st.binary`` draw per example holds all of a run's decisions, a byte or two
    each: which task completes next, whether it fails (one in sixteen), which of its
    result pool's values it returns, when an event arrives before the next timer (or
    exactly at it), whether two things happen in one step; with ``inject``, crashes before
    a step (one in four), duplicate results and expired leases (one in eight each). Past
    the end every byte reads 0, and hypothesis shrinks bytes towards 0: the minimal run is
    oldest-task-first, no failures, the simplest values, no injections.

    Args:
        entropy: the drawn bytes.
        pools: activity name -> result values to pick from (the simplest first).
        stubs: activity name -> a fixed stub (value, function, exception, sequence).
        events: payloads to pick external event data from.
        inject: read crashes, duplicates and lease expiries.
    """

    def __init__(
        self,
        entropy: bytes,
        pools: Mapping[str, Sequence[Any]],
        stubs: Mapping[str, Any],
        events: Sequence[Any],
        *,
        inject: bool = False,
    ) -> None:
        self._bytes = entropy
        self._pos = 0
        self.pools = pools
        self.stubs = stubs
        self.events = events
        self.inject = inject
        self._calls: dict[str, int] = {}

    def _byte(self) -> int:
        pos = self._pos
        self._pos = pos + 1
        return self._bytes[pos] if pos < len(self._bytes) else 0

    def begin_step(self, step: int) -> None:
        """Nothing to prepare."""

    def choose(self, choices: Sequence[Choice]) -> int:
        """0 (the oldest task) when shrunk."""
        if len(choices) == 1:
            return 0
        return self._byte() % len(choices)

    def arrival(self, now: datetime, limit: datetime | None) -> datetime:
        """Before the next timer (up to an hour with none), or exactly when it is due."""
        span = 3600 if limit is None else max(0, int((limit - now).total_seconds()))
        b = self._byte()
        if limit is not None and b == 255:
            return max(now, limit)  # at the same instant as the timer
        return now + timedelta(seconds=span * b // 256)

    def timer_time(self, now: datetime, fire_at: datetime) -> datetime:
        """Exactly when due (time skipping)."""
        return max(now, fire_at)

    def outcome(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """The stub's outcome, or a failure (one in sixteen) or a value from the pool."""
        if kind == "activity" and name in self.stubs:
            return self._stubbed(name, value)
        if self._byte() >= 240:
            return False, FailureDetails("ValueError", f"simulated failure of {name!r}")
        pool = self.pools.get(name) or self.events
        return True, _fresh(pool[self._byte() % len(pool)])

    def _stubbed(self, name: str, value: Any) -> tuple[bool, Any]:
        stub = self.stubs[name]
        n = self._calls.get(name, 0)
        self._calls[name] = n + 1
        if isinstance(stub, StubSequence):
            stub = stub.steps[min(n, len(stub.steps) - 1)]
        try:
            if isinstance(stub, BaseException):
                raise stub
            if isinstance(stub, type) and issubclass(stub, BaseException):
                raise stub(f"stubbed failure ({stub.__name__})")
            result = stub(value) if callable(stub) else stub
            return True, payload.normalize(result, f"result of activity {name!r}")
        except Exception as exc:
            kind = type(exc)
            return False, FailureDetails(f"{kind.__module__}.{kind.__qualname__}", str(exc))

    def event_value(self, name: str) -> Any:
        """A payload from the event pool."""
        return _fresh(self.events[self._byte() % len(self.events)])

    def together(self) -> bool:
        """Two things in one step, one in six."""
        return self._byte() >= 213

    def flag(self, what: str) -> bool:
        """Crashes one in four, duplicates and lease expiries one in eight."""
        if not self.inject:
            return False
        return self._byte() >= (192 if what == "crash" else 224)

    def rerun(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """A second run may give another result (or fail)."""
        return self.outcome(kind, name, value)


def _fresh(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


POOL_SIZE = 16
"""Values generated per activity result strategy, once per fuzz run."""


def value_pool(strategy: SearchStrategy[Any], size: int = POOL_SIZE) -> list[Any]:
    """Up to ``size`` distinct values of ``strategy``, the simplest first, generated once.

    A hypothesis draw per result costs about half a millisecond; picking from a pool by
    the example's bytes costs nothing, and the bytes still shrink towards the simplest.
    """
    values: list[Any] = []
    seen: set[str] = set()

    @settings(
        max_examples=size * 2,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate,),
        verbosity=Verbosity.quiet,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        key = json.dumps(value, sort_keys=True, default=repr)
        if key not in seen and len(values) < size:
            seen.add(key)
            values.append(value)

    collect()
    values.sort(key=lambda v: (len(json.dumps(v, default=repr)), json.dumps(v, default=repr)))
    return values or [None]
