"""Activity stubs: what an activity does in a test, instead of (or around) its real code.

A stub is a value (returned), a function (called with the activity's input), an exception
or exception class (raised), or :func:`sequence` of those, taken one per call, the last
repeating ("fail twice, then succeed"). A plain list is a value: the activity returns it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from durableflow.core.app import App

__all__ = ["ActivityCalls", "Sequence", "sequence", "stubbed_app"]


@dataclass(frozen=True, slots=True)
class Sequence:
    """Stubs taken in order, one per call; the last one repeats."""

    steps: tuple[Any, ...]


def sequence(*steps: Any) -> Sequence:
    """Stubs for successive calls, e.g. ``sequence(ConnectionError(), ConnectionError(), "ok")``.

    Raises:
        ValueError: no steps given.
    """
    if not steps:
        raise ValueError("sequence() needs at least one stub: a value, function or exception")
    return Sequence(tuple(steps))


@dataclass
class ActivityCalls:
    """Every call a test run made to an activity (stubbed or real), in order."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def count(self, name: str) -> int:
        """How many times activity ``name`` ran."""
        return sum(1 for n, _ in self.calls if n == name)

    def inputs(self, name: str) -> list[Any]:
        """The inputs activity ``name`` ran with, in order."""
        return [value for n, value in self.calls if n == name]


def _run_stub(stub: Any, value: Any) -> Any:
    if isinstance(stub, BaseException):
        raise stub
    if isinstance(stub, type) and issubclass(stub, BaseException):
        raise stub(f"stubbed failure ({stub.__name__})")
    if callable(stub):
        return _call(stub, value)
    return stub


def _call(fn: Callable[..., Any], value: Any) -> Any:
    try:
        params = inspect.signature(fn).parameters.values()
        takes = any(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
        )
    except (TypeError, ValueError):
        takes = True
    return fn(value) if takes else fn()


def _stub_function(name: str, stub: Any, calls: ActivityCalls) -> Callable[[Any], Any]:
    steps = stub.steps if isinstance(stub, Sequence) else (stub,)
    state = {"n": 0}

    def activity(value: Any) -> Any:
        calls.calls.append((name, value))
        step = steps[min(state["n"], len(steps) - 1)]
        state["n"] += 1
        return _run_stub(step, value)

    activity.__name__ = name
    return activity


def _counted(name: str, fn: Callable[..., Any], calls: ActivityCalls) -> Callable[[Any], Any]:
    def activity(value: Any) -> Any:
        calls.calls.append((name, value))
        return _call(fn, value)

    activity.__name__ = name
    return activity


def stubbed_app(app: App, stubs: Mapping[str, Any] | None) -> tuple[App, ActivityCalls]:
    """A copy of ``app`` whose activities are ``stubs`` (by name) or the real ones, every
    call counted. ``app`` itself is left unchanged. A stub may name an activity the app
    does not register (one the orchestrator calls by name only)."""
    calls = ActivityCalls()
    copy = App(app.name)
    for name, fn in app.orchestrators.items():
        copy.orchestrator(name=name)(fn)
    for name, graph in app.graphs.items():
        copy.register_graph(graph, name)
    for name, fn in app.activities.items():
        copy.activity(name=name)(fn)  # so name_of(fn) keeps the registered name
        copy.activities[name] = _counted(name, fn, calls)
    for name, stub in (stubs or {}).items():
        # An activity called only by name need not be registered: the stub registers it.
        copy.activities[name] = _stub_function(name, stub, calls)
    return copy, calls
