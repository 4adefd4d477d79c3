"""The App registry: orchestrators, activities and compiled graphs, by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from durableflow.core.errors import OrchestratorDefinitionError, UnknownFunctionError

F = TypeVar("F", bound=Callable[..., Any])


class NamedGraph(Protocol):
    """What the registry needs of a compiled graph: its orchestrator name."""

    @property
    def name(self) -> str:
        """The orchestrator name the graph was compiled from."""
        ...


class App:
    """A registry of orchestrators and activities.

    Example::

        app = App()

        @app.activity
        def double(x: int) -> int:
            return 2 * x

        @app.orchestrator(name="chain")
        def my_chain(ctx, n):
            return (yield ctx.call_activity(double, n))
    """

    def __init__(self, name: str = "app") -> None:
        self.name = name
        self.orchestrators: dict[str, Callable[..., Any]] = {}
        self.activities: dict[str, Callable[..., Any]] = {}
        self.graphs: dict[str, NamedGraph] = {}
        self._names: dict[int, str] = {}

    def orchestrator(self, fn: Any = None, /, *, name: str | None = None) -> Any:
        """Register a generator function ``(ctx, input)`` as an orchestrator."""

        def register(f: F) -> F:
            if inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f):
                raise OrchestratorDefinitionError(
                    f"orchestrator {f.__qualname__!r} is async; orchestrators must be plain "
                    "generator functions that `yield` durable tasks (replace `await` with `yield`)"
                )
            self._add(self.orchestrators, "orchestrator", name or f.__name__, f)
            return f

        return register(fn) if fn is not None else register

    def activity(self, fn: Any = None, /, *, name: str | None = None) -> Any:
        """Register a function ``(input) -> result`` as an activity."""

        def register(f: F) -> F:
            self._add(self.activities, "activity", name or f.__name__, f)
            return f

        return register(fn) if fn is not None else register

    def register_graph(self, graph: NamedGraph, name: str | None = None) -> None:
        """Register a compiled graph; the runtime executes it for orchestrator ``name``.

        A graph registered under the name of a generator orchestrator takes its place at run
        time; the generator stays registered so tests can compare the two.
        """
        self.graphs[name or graph.name] = graph

    def _add(self, table: dict[str, Callable[..., Any]], kind: str, name: str, f: Any) -> None:
        existing = table.get(name)
        if existing is not None and existing is not f:
            raise ValueError(f"an {kind} named {name!r} is already registered")
        table[name] = f
        self._names[id(f)] = name

    def name_of(self, name_or_fn: str | Callable[..., Any]) -> str:
        """The registered name of a function, or the string itself."""
        if isinstance(name_or_fn, str):
            return name_or_fn
        registered = self._names.get(id(name_or_fn))
        return registered if registered is not None else getattr(name_or_fn, "__name__", "?")

    def get_orchestrator(self, name_or_fn: str | Callable[..., Any]) -> Callable[..., Any]:
        """Look up an orchestrator function by name or function object.

        Raises:
            UnknownFunctionError: nothing of that name is registered; lists what is.
        """
        name = self.name_of(name_or_fn)
        fn = self.orchestrators.get(name)
        if fn is None:
            raise UnknownFunctionError("orchestrator", name, [*self.orchestrators, *self.graphs])
        return fn

    def has_orchestrator(self, name: str) -> bool:
        """True if ``name`` is a registered generator orchestrator or compiled graph."""
        return name in self.orchestrators or name in self.graphs

    def get_activity(self, name_or_fn: str | Callable[..., Any]) -> Callable[..., Any]:
        """Look up an activity function by name or function object.

        Raises:
            UnknownFunctionError: nothing of that name is registered; lists what is.
        """
        name = self.name_of(name_or_fn)
        fn = self.activities.get(name)
        if fn is None:
            raise UnknownFunctionError("activity", name, list(self.activities))
        return fn
