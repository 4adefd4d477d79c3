"""Graph building blocks for lowering: dangling exits, regions and stable node ids."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from durableflow.ir.nodes import Edge, Node, Span

__all__ = ["Exit", "GraphBuilder"]


@dataclass(frozen=True, slots=True)
class Exit:
    """An edge waiting for its target: lowering connects it to the next node it creates.

    Attributes:
        source: Node the edge leaves.
        kind: Edge kind (``next``, ``guard``, ``else``, ``error``, ``back``).
        assigned: Names definitely assigned when control leaves through this edge.
        order: Guard or error edge order.
        guard: Guard expression.
        names: Exception names (error edges).
        bind: Variable bound to the exception (error edges).
    """

    source: str
    kind: str
    assigned: frozenset[str]
    order: int = 0
    guard: str | None = None
    names: tuple[str, ...] = ()
    bind: str | None = None


@dataclass
class _Region:
    path: str
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    subregions: Counter[str] = field(default_factory=Counter)


class GraphBuilder:
    """Allocates stable ids ``<function>/<region path>/<kind>:<label>#<k>`` and collects
    nodes and edges; never creates two edges between the same pair of nodes."""

    def __init__(self, function: str) -> None:
        self.function = function
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self._edge_keys: set[tuple[str, str]] = set()
        self._regions = [_Region("")]

    # -- regions --------------------------------------------------------------------------
    @property
    def region(self) -> str:
        """The current region path."""
        return self._regions[-1].path

    def open_region(self, construct: str) -> str:
        """Allocate the next ``<construct>#<k>`` segment in the current region; return it."""
        top = self._regions[-1]
        k = top.subregions[construct]
        top.subregions[construct] += 1
        return f"{construct}#{k}"

    def push(self, segment: str) -> None:
        """Enter region ``segment`` (relative to the current one)."""
        parent = self._regions[-1].path
        self._regions.append(_Region(f"{parent}/{segment}" if parent else segment))

    def pop(self) -> None:
        """Leave the current region."""
        self._regions.pop()

    # -- nodes and edges --------------------------------------------------------------------
    def add(self, kind: str, label: str, span: Span | None, **fields: object) -> Node:
        """Create a node with the next id for (kind, label) in the current region."""
        top = self._regions[-1]
        k = top.counts[(kind, label)]
        top.counts[(kind, label)] += 1
        path = f"{self.function}/{top.path}" if top.path else self.function
        node = Node(
            id=f"{path}/{kind}:{label}#{k}",
            kind=kind,
            label=label,
            region=top.path,
            span=span,
            **fields,  # type: ignore[arg-type]
        )
        self.nodes.append(node)
        return node

    def replace(self, node: Node, **fields: object) -> Node:
        """Swap ``node`` for a copy with ``fields`` changed (same id)."""
        new = replace(node, **fields)  # type: ignore[arg-type]
        self.nodes[self.nodes.index(node)] = new
        return new

    def connect(self, exits: list[Exit], target: str, span: Span | None = None) -> frozenset[str]:
        """Connect every exit to ``target``; return the names assigned on all of them.

        A second edge between the same two nodes (``if c: pass``) goes through a ``pass``
        node, because a DiGraph holds one edge per pair.
        """
        assigned: frozenset[str] | None = None
        for ex in exits:
            assigned = ex.assigned if assigned is None else assigned & ex.assigned
            src = ex.source
            if (src, target) in self._edge_keys:
                stub = self.add("assign", "pass", span, op="pass")
                self._edge(ex, src, stub.id)
                self._edge(Exit(stub.id, "next", ex.assigned), stub.id, target)
            else:
                self._edge(ex, src, target)
        return assigned if assigned is not None else frozenset()

    def _edge(self, ex: Exit, src: str, dst: str) -> None:
        self._edge_keys.add((src, dst))
        self.edges.append(
            Edge(src, dst, ex.kind, ex.order, ex.guard, ex.names, ex.bind),
        )
