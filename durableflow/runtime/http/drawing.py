"""The graphs the dashboard draws instances on.

The runtime never imports the compiler (it would bring libcst), so drawing is handed in:
whoever builds the app (``durable serve``, or a user's own service) passes the compiled
graphs and a function that renders one as SVG, such as
``durableflow.compiler.render.render_svg``. The overlay itself (which nodes completed,
which edges were taken) is computed here, by replaying the history on the graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from durableflow.core.history import HistoryEvent
from durableflow.ir.graph import CompiledGraph
from durableflow.ir.trace import InstanceTrace
from durableflow.runtime.graph_interpreter import trace_history

__all__ = ["Drawings", "SvgRenderer"]

SvgRenderer = Callable[[CompiledGraph, "InstanceTrace | None"], str]
"""Draws a graph, overlaid with an instance's trace, as SVG text."""

_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


@dataclass(frozen=True)
class Drawings:
    """Compiled graphs by orchestrator name, and how to draw them.

    Attributes:
        graphs: orchestrator name -> its compiled graph.
        render_svg: draws a graph as SVG; without it the dashboard shows histories only.
        problems: orchestrator name -> why it has no graph (say, the compile errors of an
            orchestrator outside the compiled subset), shown instead of a drawing.
    """

    graphs: Mapping[str, CompiledGraph] = field(default_factory=dict)
    render_svg: SvgRenderer | None = None
    problems: Mapping[str, str] = field(default_factory=dict)

    def with_graphs(self, extra: Mapping[str, CompiledGraph]) -> Drawings:
        """These drawings plus ``extra`` graphs (an app's registered graphs)."""
        return Drawings({**extra, **self.graphs}, self.render_svg, self.problems)

    def draw(self, name: str, history: Sequence[HistoryEvent]) -> dict[str, Any]:
        """``{"svg": text or None, "reason": why not or None, "states": node -> state}``."""
        graph = self.graphs.get(name)
        if graph is None:
            missing = self.problems.get(name) or (
                f"no compiled graph for orchestrator {name!r}: it may be outside the compiled "
                "subset, or the server was started without its source or a --graphs folder"
            )
            return {"svg": None, "reason": missing, "states": {}}
        if self.render_svg is None:
            return {
                "svg": None,
                "reason": "this server was set up without a renderer",
                "states": {},
            }
        trace: InstanceTrace | None = None
        reason: str | None = None
        if history:
            try:
                trace = trace_history(graph, history)
            except Exception as exc:  # a history the graph cannot follow: draw it bare
                reason = f"the history does not replay on the compiled graph: {exc}"
        if trace is not None and trace.breaks:
            reason = (
                f"the history departs from the compiled graph at action {trace.diverged_at}; "
                "the code changed since this instance ran"
            )
        svg = _PROLOGUE.sub("", self.render_svg(graph, trace), count=1)
        states = {} if trace is None else {n.id: trace.node_state(n.id) for n in graph.nodes()}
        return {"svg": svg, "reason": reason, "states": states}
