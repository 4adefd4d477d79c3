"""Draw compiled graphs with Graphviz: a shape per node kind, regions as clusters, guard
labels from the expression source (wrapped, never cut), retry settings and timer times on
their nodes, dashed error edges (bundled when many nodes share one handler), a legend of the
kinds drawn, and optionally one instance's trace over it (completed / running / failed / not
reached, taken edges bold, loop counts)."""

from __future__ import annotations

import itertools
import re
import textwrap
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

STATUS_SHAPE = "tab"
"""``ctx.set_custom_status(...)`` is an ``assign`` node, drawn as a tab (it publishes a value)."""

_KIND_NAMES = {
    "start": "start",
    "end": "return",
    "fail": "raise",
    "assign": "assignment",
    "activity": "activity",
    "suborchestration": "sub-orchestration",
    "timer": "durable timer",
    "wait_event": "external event",
    "choice": "if / loop",
    "all": "task_all (join)",
    "any": "task_any (race)",
    "map": "fan-out",
    "continue_as_new": "continue_as_new",
}
_BUNDLE_AT = 3  # error edges from this many nodes into one handler are drawn as one bundle

STATE_COLORS: dict[str, tuple[str, str]] = {
    "completed": ("#c8e6c9", "#2e7d32"),
    "running": ("#fff59d", "#f9a825"),
    "failed": ("#ffcdd2", "#c62828"),
    "not_reached": ("#f5f5f5", "#9e9e9e"),
}
"""Overlay state -> (fill colour, line colour)."""

_MAX_TEXT = 48
_WRAP = 40


@dataclass(frozen=True)
class _Style:
    shape: str
    style: str


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _wrapped(text: str) -> str:
    """Long expressions (guards) on several lines, whole: a reviewer must see the condition."""
    text = " ".join(text.split())
    return "\n".join(textwrap.wrap(text, _WRAP, break_long_words=False)) or text


def _retry_text(node: Node) -> str:
    fields = dict(node.retry)
    parts = []
    if "max_attempts" in fields:
        parts.append(f"{fields.pop('max_attempts')} attempts")
    if "first_interval" in fields:
        parts.append(f"first {fields.pop('first_interval')}")
    parts += [f"{k}={v}" for k, v in sorted(fields.items())]
    return _wrapped("retry: " + ", ".join(parts))


def _label(node: Node) -> str:
    kind = node.kind
    lines: list[str] = []
    if kind in ("activity", "suborchestration", "wait_event"):
        lines.append(node.name or node.label)
        if node.value:
            lines.append(f"({_short(node.value)})")
        if node.retry:
            lines.append(_retry_text(node))
        if node.timeout:
            lines.append(f"timeout {_short(node.timeout)}")
    elif kind == "map":
        lines.append(f"map {node.name}")
        lines.append(f"for {_short(node.item or '')} in {_short(node.iter or '')}")
    elif kind == "timer":
        value = node.value or ""
        lines.append("timer, fires after" if value.startswith("timedelta(") else "timer, fires at")
        lines.append(_wrapped(value))
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
        return f"set_custom_status({_short(node.value or '')})"
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


def render_dot(
    graph: CompiledGraph, trace: InstanceTrace | None = None, *, legend: bool = True
) -> str:
    """DOT source for ``graph``, overlaid with ``trace`` when given. Byte-stable.

    Args:
        graph: The graph.
        trace: One instance's replay, drawn over the graph.
        legend: Add a legend of the node kinds drawn (and the overlay colours).
    """
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
    bundles = _bundles(graph)
    drawn_bundles: set[tuple[str, tuple[str, ...]]] = set()
    for edge in graph.edges():
        attrs: dict[str, str] = {}
        key = (edge.target, edge.names)
        if edge.kind == "error" and key in bundles:
            hub = bundles[key]
            taken = trace is not None and (edge.source, edge.target) in trace.taken
            dot.edge(
                names[edge.source],
                hub,
                style="dashed,bold" if taken else "dashed",
                color="#c62828",
                arrowhead="none",
            )
            if key not in drawn_bundles:
                drawn_bundles.add(key)
                dot.node(hub, shape="point", width="0.08", color="#c62828")
                dot.edge(
                    hub,
                    names[edge.target],
                    style="dashed",
                    color="#c62828",
                    label=", ".join(edge.names),
                )
            continue
        if edge.kind == "guard":
            attrs["label"] = _wrapped(edge.guard or "")
        elif edge.kind == "else":
            attrs["label"] = "else"
        elif edge.kind == "error":
            attrs.update(style="dashed", color="#c62828", label=", ".join(edge.names))
        elif edge.kind == "back":
            attrs.update(color="#546e7a")
        if trace is not None and (edge.source, edge.target) in trace.taken:
            attrs.update(penwidth="2.5", style="bold" if edge.kind != "error" else "dashed,bold")
        dot.edge(names[edge.source], names[edge.target], **attrs)
    if legend:
        _legend(dot, graph, trace)
    return str(dot.source)


def _bundles(graph: CompiledGraph) -> dict[tuple[str, tuple[str, ...]], str]:
    """(handler, exception names) -> hub node name, for handlers many nodes can reach."""
    sources: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for edge in graph.edges():
        if edge.kind == "error":
            sources.setdefault((edge.target, edge.names), set()).add(edge.source)
    keys = sorted(k for k, v in sources.items() if len(v) >= _BUNDLE_AT)
    return {key: f"bundle{i}" for i, key in enumerate(keys)}


def _legend(dot: graphviz.Digraph, graph: CompiledGraph, trace: InstanceTrace | None) -> None:
    kinds = sorted({n.kind for n in graph.nodes()} - {"start"})
    statuses = any(n.kind == "assign" and n.op == "custom_status" for n in graph.nodes())
    with dot.subgraph(name="cluster_legend") as sub:
        sub.attr(label="legend", style="rounded", color="#cfd8dc", fontsize="9")
        sub.attr("node", fontsize="9", width="0", height="0", margin="0.05")
        entries = [(f"legend_{k}", _KIND_NAMES[k], NODE_SHAPES[k]) for k in kinds]
        if statuses:
            entries.append(("legend_status", "custom status", STATUS_SHAPE))
        for name, text, shape in entries:
            sub.node(name, label=text, shape=shape)
        if trace is not None:
            for state, (fill, line) in STATE_COLORS.items():
                sub.node(
                    f"legend_{state}",
                    label=state.replace("_", " "),
                    shape="box",
                    style="filled",
                    fillcolor=fill,
                    color=line,
                )
                entries.append((f"legend_{state}", state, "box"))
        for (a, _, _), (b, _, _) in itertools.pairwise(entries):
            sub.edge(a, b, style="invis")


def _node_attrs(node: Node, trace: InstanceTrace | None) -> dict[str, str]:
    attrs = {"label": _label(node), "shape": NODE_SHAPES.get(node.kind, "box")}
    if node.kind == "assign" and node.op == "custom_status":
        attrs["shape"] = STATUS_SHAPE
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


def render(
    graph: CompiledGraph,
    fmt: str = "svg",
    trace: InstanceTrace | None = None,
    *,
    legend: bool = True,
) -> bytes:
    """Render with Graphviz's ``dot`` (must be installed) to ``svg``, ``png``, ``pdf`` or ``dot``.

    Raises:
        graphviz.ExecutableNotFound: ``dot`` is not installed.
    """
    source = render_dot(graph, trace, legend=legend)
    if fmt == "dot":
        return source.encode("utf-8")
    data: bytes = graphviz.Source(source).pipe(format=fmt)
    return data


def render_svg(graph: CompiledGraph, trace: InstanceTrace | None = None) -> str:
    """SVG text of ``graph`` (overlaid with ``trace``), as the dashboard embeds it: without the
    legend, so every drawn node is one of the graph's (the page explains the colours).

    Raises:
        graphviz.ExecutableNotFound: ``dot`` is not installed.
    """
    return render(graph, "svg", trace, legend=False).decode("utf-8")
