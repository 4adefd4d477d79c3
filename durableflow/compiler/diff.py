"""Versioning: what a new graph means for instances started on the old one.

:func:`diff_graphs` matches nodes by id and classifies every change for in-flight instances:

* **breaking**: a durable action added, removed, reordered or renamed where running instances
  may already have passed (their histories would no longer replay);
* **risky**: a guard, loop or fan-out changed, so an instance may take another path;
* **semantic**: an input, retry policy, timer duration or assignment changed: same actions,
  other values;
* **safe**: nothing recorded can change (e.g. an action appended after every other one).

:func:`check_instances` turns "may" into a definite yes/no per instance by replaying each
history on the new graph; the replay itself is injected (``tracer``, normally
``durableflow.runtime.graph_interpreter.trace_history``) because the compiler does not
depend on the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from durableflow.core.history import HistoryEvent
from durableflow.ir.graph import CompiledGraph
from durableflow.ir.nodes import Node
from durableflow.ir.trace import InstanceTrace

__all__ = [
    "SEVERITIES",
    "Change",
    "DiffReport",
    "InstanceVerdict",
    "check_instances",
    "diff_graphs",
]

SEVERITIES = ("breaking", "risky", "semantic", "safe")
"""Change classes, most severe first."""

_ACTION_KINDS = frozenset({"activity", "suborchestration", "timer", "wait_event", "map"})
_SEMANTIC_FIELDS = {
    "value": "input",
    "retry": "retry policy",
    "timeout": "timeout",
    "instance_id": "instance id",
    "target": "result variable",
    "op": "operation",
    "exception": "exception",
}
_RISKY_FIELDS = {
    "iter": "fan-out/loop items",
    "item": "loop variable",
    "conds": "fan-out filter",
    "loop": "loop kind",
    "wait": "wait/handle",
}

Tracer = Callable[[CompiledGraph, Sequence[HistoryEvent]], InstanceTrace]


@dataclass(frozen=True, slots=True)
class Change:
    """One classified difference between two graphs.

    Attributes:
        severity: ``breaking``, ``risky``, ``semantic`` or ``safe``.
        what: ``added``, ``removed``, ``renamed``, ``reordered``, ``guard``, ``flow`` or the
            changed field (``input``, ``retry policy``, ...).
        node: The node's id in the old graph (or the new one, for additions).
        new_node: The matching new node, for renames.
        message: One line for people.
    """

    severity: str
    what: str
    node: str
    new_node: str | None
    message: str


@dataclass(frozen=True, slots=True)
class InstanceVerdict:
    """Whether one in-flight instance would survive the new graph.

    Attributes:
        instance_id: The instance.
        breaks: True when its history does not replay on the new graph.
        seq: First divergent sequence number.
        old_node: The node that created action ``seq`` in the old graph.
        new_node: The node that creates it in the new graph (None: no action there).
        message: One line for people.
    """

    instance_id: str
    breaks: bool
    seq: int | None
    old_node: str | None
    new_node: str | None
    message: str


@dataclass(frozen=True)
class DiffReport:
    """Changes between two graphs and, when histories were given, a verdict per instance."""

    changes: list[Change]
    verdicts: list[InstanceVerdict] | None = None

    @property
    def would_break(self) -> bool:
        """With verdicts: does any instance break; without: is any change breaking."""
        if self.verdicts is not None:
            return any(v.breaks for v in self.verdicts)
        return any(c.severity == "breaking" for c in self.changes)


def _actions(graph: CompiledGraph) -> list[Node]:
    return [n for n in graph.nodes() if n.kind in _ACTION_KINDS]


def _reach(graph: CompiledGraph) -> Callable[[str, str], bool]:
    g = graph.digraph
    cache: dict[str, set[str]] = {}

    def reaches(a: str, b: str) -> bool:
        if a not in cache:
            cache[a] = set(nx.descendants(g, a))
        return b in cache[a]

    return reaches


def _fields(node: Node) -> dict[str, object]:
    attrs = node.to_attrs()
    for key in ("id", "kind", "label", "region", "span", "name"):
        attrs.pop(key, None)
    return attrs


def diff_graphs(old: CompiledGraph, new: CompiledGraph) -> list[Change]:
    """Classify every change from ``old`` to ``new`` (most severe first, then by node id)."""
    changes: list[Change] = []
    old_ids = {n.id for n in old.nodes()}
    new_ids = {n.id for n in new.nodes()}
    old_actions = _actions(old)
    new_actions = _actions(new)
    removed = [n for n in old_actions if n.id not in new_ids]
    added = [n for n in new_actions if n.id not in old_ids]
    # A rename keeps kind, region and position among the actions; the id's label changes.
    renamed: set[str] = set()
    for r in removed:
        for a in added:
            same_place = (r.kind, r.region) == (a.kind, a.region) and old_actions.index(
                r
            ) == new_actions.index(a)
            if same_place and a.id not in renamed:
                renamed.update({r.id, a.id})
                changes.append(
                    Change("breaking", "renamed", r.id, a.id, f"{r.label} renamed to {a.label}")
                )
                break
    moved = _moved(old_actions, new_actions, removed, added, renamed)
    for r_id, a_id in moved.items():
        changes.append(
            Change(
                "risky",
                "moved",
                r_id,
                a_id,
                f"{old.node(r_id).label} moved into another block ({r_id} -> {a_id}); the "
                "recorded actions stay in order, so old histories replay unless the new "
                "guards send them elsewhere (check running instances with --store)",
            )
        )
    renamed |= set(moved) | set(moved.values())
    changes.extend(_swaps(old, new))
    old_reach, new_reach = _reach(old), _reach(new)
    kept = [n for n in old_actions if n.id in new_ids]
    for r in removed:
        if r.id not in renamed:
            changes.append(
                Change(
                    "breaking",
                    "removed",
                    r.id,
                    None,
                    f"{r.kind} {r.label} removed; instances that ran it no longer replay",
                )
            )
    for a in added:
        if a.id in renamed:
            continue
        before = [k.id for k in kept if new_reach(a.id, k.id)]
        if before:
            changes.append(
                Change(
                    "breaking",
                    "added",
                    a.id,
                    None,
                    f"{a.kind} {a.label} added before "
                    f"{len(before)} existing action(s); running instances would diverge",
                )
            )
        else:
            changes.append(
                Change(
                    "safe",
                    "added",
                    a.id,
                    None,
                    f"{a.kind} {a.label} added after every existing action",
                )
            )
    # Source order decides "before" (inside a loop both reach each other); reachability
    # decides whether the two can run in one instance at all.
    new_order = {n.id: i for i, n in enumerate(new.nodes())}
    for i, a in enumerate(kept):
        for b in kept[i + 1 :]:
            related = old_reach(a.id, b.id) or old_reach(b.id, a.id)
            still = new_reach(a.id, b.id) or new_reach(b.id, a.id)
            if related and still and new_order[a.id] > new_order[b.id]:
                changes.append(
                    Change(
                        "breaking",
                        "reordered",
                        a.id,
                        b.id,
                        f"{a.label} now runs after "
                        f"{b.label}; histories record them the other way round",
                    )
                )
    for node in old.nodes():
        if node.id in new:
            changes.extend(_node_changes(node, new.node(node.id)))
        elif node.kind not in _ACTION_KINDS and node.kind != "start":
            severity = "risky" if node.kind == "choice" else "semantic"
            changes.append(Change(severity, "removed", node.id, None, f"{node.kind} removed"))
    for node in new.nodes():
        if node.id not in old_ids and node.kind not in _ACTION_KINDS:
            severity = "risky" if node.kind == "choice" else "semantic"
            changes.append(Change(severity, "added", node.id, None, f"{node.kind} added"))
    changes.extend(_edge_changes(old, new))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(changes, key=lambda c: (order[c.severity], c.node, c.what))


def _signature(node: Node) -> tuple[str, str | None, str]:
    """What a history records of an action: its kind and name (sequence order aside)."""
    return (node.kind, node.name, node.label)


def _moved(
    old_actions: list[Node],
    new_actions: list[Node],
    removed: list[Node],
    added: list[Node],
    renamed: set[str],
) -> dict[str, str]:
    """Removed -> added actions that are the same action wrapped in a new ``try`` or branch.

    A history records each action's kind and name in sequence order, not the node id, so an
    action whose id changed only because a ``try``/``if`` now encloses it still replays as long
    as the sequence of recorded actions is unchanged. That holds when the actions of the old
    and the new graph, in source order, have the same signatures.
    """
    if [_signature(n) for n in old_actions] != [_signature(n) for n in new_actions]:
        return {}
    pairs: dict[str, str] = {}
    for old_node, new_node in zip(old_actions, new_actions, strict=True):
        if old_node.id == new_node.id:
            continue
        if old_node in removed and new_node in added and old_node.id not in renamed:
            pairs[old_node.id] = new_node.id
    return pairs


def _swaps(old: CompiledGraph, new: CompiledGraph) -> list[Change]:
    """Two calls of the same action exchanged (``a = f(1); b = f(2)`` -> ``b = f(2); a = f(1)``).

    Their ids are positional (``activity:f#0``, ``#1``), so no id changes; but each recorded
    result now goes to the other call's variable, which breaks running instances.
    """
    out: list[Change] = []
    groups: dict[tuple[str, str, str], list[Node]] = {}
    for node in old.nodes():
        if node.kind in _ACTION_KINDS:
            groups.setdefault((node.kind, node.label, node.region), []).append(node)
    for siblings in groups.values():
        if len(siblings) < 2 or any(n.id not in new for n in siblings):
            continue
        before = [_fields(n) for n in siblings]
        after = [_fields(new.node(n.id)) for n in siblings]
        for i, fields in enumerate(after):
            if fields != before[i] and fields in before and before.index(fields) != i:
                j = before.index(fields)
                out.append(
                    Change(
                        "breaking",
                        "swapped",
                        siblings[i].id,
                        siblings[j].id,
                        f"the calls {siblings[i].id} and {siblings[j].id} changed places; "
                        "recorded results would land in the other call's variables",
                    )
                )
                break
    return out


def _node_changes(old: Node, new: Node) -> list[Change]:
    out = []
    before, after = _fields(old), _fields(new)
    for key in sorted(set(before) | set(after)):
        if before.get(key) == after.get(key):
            continue
        if key in _RISKY_FIELDS:
            out.append(
                Change(
                    "risky",
                    _RISKY_FIELDS[key],
                    old.id,
                    None,
                    f"{_RISKY_FIELDS[key]} changed: {before.get(key)!r} -> {after.get(key)!r}",
                )
            )
        else:
            what = (
                "timer"
                if old.kind == "timer" and key == "value"
                else _SEMANTIC_FIELDS.get(key, key)
            )
            out.append(
                Change(
                    "semantic",
                    what,
                    old.id,
                    None,
                    f"{what} changed: {before.get(key)!r} -> {after.get(key)!r}",
                )
            )
    return out


def _contracted(
    g: CompiledGraph, common: set[str]
) -> set[tuple[str, str, str, str | None, tuple[str, ...]]]:
    """Edges between nodes both graphs have, walking through nodes only one graph has (so an
    inserted or removed node is reported once, as a node, not again as changed flow)."""
    out = set()
    for edge in g.edges():
        if edge.source not in common:
            continue
        stack, seen = [edge.target], set()
        while stack:
            node = stack.pop()
            if node in common:
                out.add((edge.source, node, edge.kind, edge.guard, edge.names))
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.extend(e.target for e in g.out_edges(node))
    return out


def _edge_changes(old: CompiledGraph, new: CompiledGraph) -> list[Change]:
    common = {n.id for n in old.nodes()} & {n.id for n in new.nodes()}
    a, b = _contracted(old, common), _contracted(new, common)
    out = []
    sources = sorted({e[0] for e in a ^ b})
    for src in sources:
        before = sorted((e for e in a if e[0] == src), key=str)
        after = sorted((e for e in b if e[0] == src), key=str)
        guards_before = {e[3] for e in before if e[3] is not None}
        guards_after = {e[3] for e in after if e[3] is not None}
        what = "guard" if guards_before != guards_after else "flow"
        out.append(Change("risky", what, src, None, f"{what} out of {src} changed"))
    return out


def check_instances(
    new: CompiledGraph,
    instances: Iterable[tuple[str, Sequence[HistoryEvent]]],
    tracer: Tracer,
    old: CompiledGraph | None = None,
) -> list[InstanceVerdict]:
    """Replay each ``(instance_id, history)`` on ``new``; report which would break and where.

    Args:
        new: The new graph.
        instances: In-flight instances and their histories.
        tracer: Replays a history through a graph (``trace_history`` from the runtime).
        old: The old graph, to name the node each divergent action came from.
    """
    verdicts = []
    for instance_id, history in instances:
        trace = tracer(new, history)
        old_trace = tracer(old, history) if old is not None else None
        if trace.diverged_at is not None:
            seq = trace.diverged_at
            old_node = old_trace.node_at(seq) if old_trace else None
            new_node = trace.node_at(seq)
            recorded = next((r for r in trace.recorded if r[0] == seq), None)
            what = f"{recorded[1]} {recorded[2]!r}" if recorded else "an action"
            message = (
                f"sequence {seq}: history has {what} from {old_node or '?'}, the new graph "
                + (f"creates it at {new_node}" if new_node else "creates nothing there")
            )
            verdicts.append(InstanceVerdict(instance_id, True, seq, old_node, new_node, message))
        elif trace.status == "FAILED" and (old_trace is None or old_trace.status != "FAILED"):
            verdicts.append(
                InstanceVerdict(
                    instance_id,
                    True,
                    None,
                    None,
                    None,
                    f"replay on the new graph fails: {trace.failure}",
                )
            )
        else:
            verdicts.append(
                InstanceVerdict(instance_id, False, None, None, None, "replays cleanly")
            )
    return verdicts
