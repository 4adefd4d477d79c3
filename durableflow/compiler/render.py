"""Draw compiled graphs with Graphviz: a shape per node kind, regions as clusters, guard
labels from the expression source, dashed error edges, and optionally one instance's trace
over it (completed / running / failed / not reached, taken edges bold, loop counts)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import graphviz

from durableflow.ir.graph import CompiledGraph
from durableflow.ir.nodes import Node
from durableflow.ir.trace import InstanceTrace

__all__ = ["NODE_SHAPES", "STATE_COLORS", "render", "render_dot", "render_svg"]

NODE_SHAPES: dict[str, str] = {
    "start": "circle",
    "end": "box",
    "fail": "octagon",
    "assign": "note",
    "activity": "box",
    "suborchestration": "box3d",
    "timer": "ellipse",
    "wait_event": "cds",
    "choice": "diamond",
    "all": "invtrapezium",
    "any": "trapezium",
    "map": "folder",
    "continue_as_new": "rarrow",
}
"""Graphviz shape of each node kind."""

STATE_COLORS: dict[str, tuple[str, str]] = {
    "completed": ("#c8e6c9", "#2e7d32"),
    "running": ("#fff59d", "#f9a825"),
    "failed": ("#ffcdd2", "#c62828"),
    "not_reached": ("#f5f5f5", "#9e9e9e"),
}
"""Overlay state -> (fill colour, line colour)."""

_MAX_TEXT = 48


@dataclass(frozen=True)
class _Style:
    shape: str
    style: str


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _label(node: Node) -> str:
    kind = node.kind
    lines: list[str] = []
    if kind in ("activity", "suborchestration", "wait_event"):
        lines.append(node.name or node.label)
        if node.value:
            lines.append(f"({_short(node.value)})")
        if node.retry:
            lines.append("retry")
        if node.timeout:
            lines.append(f"timeout {_short(node.timeout)}")
    elif kind == "map":
        lines.append(f"map {node.name}")
        lines.append(f"for {_short(node.item or '')} in {_short(node.iter or '')}")
    elif kind == "timer":
        lines.append(f"timer {_short(node.value or '')}")
    elif kind == "assign":
        lines.append(_assign_text(node))
    elif kind == "choice":
        lines.append(node.loop or "if")
    elif kind == "end":
        lines.append("return" if node.value is None else f"return {_short(node.value)}")
    elif kind == "fail":
        lines.append(f"raise {node.exception or _short(node.value or '')}")
    elif kind == "all" and node.op == "single":
        lines.append(f"wait {_short(node.value or '')}")
    elif kind in ("all", "any"):
        lines.append(f"task_{kind} {_short(node.value or '')}")
    elif kind == "continue_as_new":
        lines.append("continue_as_new")
    else:
        lines.append(kind)
    if node.target and kind not in ("assign",):
        lines.append(f"-> {_short(node.target)}")
    return "\n".join(lines)


def _assign_text(node: Node) -> str:
    op = node.op or "="
    if op == "custom_status":
        return f"status = {_short(node.value or '')}"
    if op == "append":
        return f"{node.target}.append({_short(node.value or '')})"
    if op == "cancel":
        return f"{node.target}.cancel()"
    if op == "iter":
        return f"iterate {_short(node.value or '')}"
    if op == "pass":
        return "pass"
    return f"{node.target} {op} {_short(node.value or '')}"


def _cluster_name(path: str) -> str:
    return "cluster_" + re.sub(r"[^A-Za-z0-9_]", "_", path)


def render_dot(graph: CompiledGraph, trace: InstanceTrace | None = None) -> str:
    """DOT source for ``graph``, overlaid with ``trace`` when given. Byte-stable."""
    dot = graphviz.Digraph(name=graph.name, comment=f"durableflow graph {graph.name}")
    dot.attr(rankdir="TB", fontname="Helvetica", labelloc="t", label=graph.name)
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9")
    # Node ids contain ':' (a port separator in DOT edges): draw with short names, keep the
    # real id as the SVG element id.
    names = {node.id: f"n{i}" for i, node in enumerate(graph.nodes())}
    by_region: dict[str, list[Node]] = {}
    for node in graph.nodes():
        by_region.setdefault(node.region, []).append(node)
    regions = sorted(by_region)
    # Every prefix of a region path is a cluster too, so nesting shows.
    all_paths = sorted(
        {"/".join(r.split("/")[: i + 1]) for r in regions if r for i in range(len(r.split("/")))}
    )

    def add_nodes(target: graphviz.Digraph, region: str) -> None:
        for node in by_region.get(region, []):
            target.node(names[node.id], id=node.id, **_node_attrs(node, trace))

    def add_cluster(parent: graphviz.Digraph, path: str) -> None:
        with parent.subgraph(name=_cluster_name(path)) as sub:
            sub.attr(label=path.rsplit("/", 1)[-1], style="rounded,dashed", color="#90a4ae")
            add_nodes(sub, path)
            for child in all_paths:
                if child.rsplit("/", 1)[0] == path and child != path and "/" in child:
                    add_cluster(sub, child)

    add_nodes(dot, "")
    for path in all_paths:
        if "/" not in path:
            add_cluster(dot, path)
    for edge in graph.edges():
        attrs: dict[str, str] = {}
        if edge.kind == "guard":
            attrs["label"] = _short(edge.guard or "")
        elif edge.kind == "else":
            attrs["label"] = "else"
        elif edge.kind == "error":
            attrs.update(style="dashed", color="#c62828", label=", ".join(edge.names))
        elif edge.kind == "back":
            attrs.update(color="#546e7a")
        if trace is not None and (edge.source, edge.target) in trace.taken:
            attrs.update(penwidth="2.5", style="bold" if edge.kind != "error" else "dashed,bold")
        dot.edge(names[edge.source], names[edge.target], **attrs)
    return str(dot.source)


def _node_attrs(node: Node, trace: InstanceTrace | None) -> dict[str, str]:
    attrs = {"label": _label(node), "shape": NODE_SHAPES.get(node.kind, "box")}
    if node.kind == "activity":
        attrs["style"] = "rounded"
    if node.kind == "start":
        attrs.update(width="0.3", fontsize="9")
    if node.kind == "end":
        attrs.update(peripheries="2", style="rounded")
    if trace is not None:
        state = trace.node_state(node.id)
        fill, line = STATE_COLORS[state]
        attrs.update(
            style=f"{attrs.get('style', '')},filled".lstrip(","), fillcolor=fill, color=line
        )
        count = trace.visits.get(node.id, 0)
        if count > 1:
            attrs["label"] += f"\nx{count}"
        attrs["tooltip"] = state
    return attrs


def render(graph: CompiledGraph, fmt: str = "svg", trace: InstanceTrace | None = None) -> bytes:
    """Render with Graphviz's ``dot`` (must be installed) to ``svg``, ``png``, ``pdf`` or ``dot``.

    Raises:
        graphviz.ExecutableNotFound: ``dot`` is not installed.
    """
    source = render_dot(graph, trace)
    if fmt == "dot":
        return source.encode("utf-8")
    data: bytes = graphviz.Source(source).pipe(format=fmt)
    return data


def render_svg(graph: CompiledGraph, trace: InstanceTrace | None = None) -> str:
    """SVG text of ``graph`` (overlaid with ``trace``), as the dashboard embeds it.

    Raises:
        graphviz.ExecutableNotFound: ``dot`` is not installed.
    """
    return render(graph, "svg", trace).decode("utf-8")
