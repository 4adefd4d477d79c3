"""The compiled graph: a networkx ``DiGraph`` of :class:`Node` and :class:`Edge` records.

Its JSON form is ``node_link_data(G, edges="edges")`` (the keyword is explicit because the
default changed between networkx 3.4 and 3.6) plus ``schema`` and ``ir_hash``, dumped with
sorted keys so that the bytes are stable. Loading parses every expression again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

import networkx as nx

from durableflow.ir.ast import Expr
from durableflow.ir.errors import ExpressionSyntaxError, GraphFormatError
from durableflow.ir.nodes import EDGE_KINDS, NODE_KINDS, Edge, Node
from durableflow.ir.parse import parse_expression

__all__ = ["SCHEMA_VERSION", "CompiledGraph", "graph_schema"]

SCHEMA_VERSION = "durableflow.graph/1"
"""Version tag of the JSON form; bumped on any incompatible change."""

_META_KEYS = (
    "name",
    "function",
    "source_path",
    "source_sha256",
    "ctx_param",
    "input_param",
    "entry",
)


def graph_schema() -> dict[str, Any]:
    """The JSON Schema of graph documents (shipped as ``durableflow/ir/graph.schema.json``)."""
    text = resources.files("durableflow.ir").joinpath("graph.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


class CompiledGraph:
    """One orchestrator compiled to a state machine.

    Attributes:
        digraph: The underlying ``networkx.DiGraph``; node attributes are the JSON form of
            each :class:`Node`, edge attributes that of each :class:`Edge`.
        meta: ``name``, ``function``, ``source_path``, ``source_sha256``, ``ctx_param``,
            ``input_param``, ``entry`` (the start node id) and ``constants`` (module-level
            constant name -> expression text).
    """

    def __init__(self, nodes: Iterable[Node], edges: Iterable[Edge], meta: dict[str, Any]):
        self.meta = dict(meta)
        self.meta.setdefault("constants", {})
        self._nodes: dict[str, Node] = {}
        self._out: dict[str, list[Edge]] = {}
        self._exprs: dict[str, Expr] = {}
        g: nx.DiGraph[str] = nx.DiGraph()
        g.graph.update(self.meta)
        for node in nodes:
            attrs = node.to_attrs()
            del attrs["id"]
            g.add_node(node.id, **attrs)
            self._nodes[node.id] = node
            self._out[node.id] = []
        for edge in edges:
            if edge.source not in self._nodes or edge.target not in self._nodes:
                raise GraphFormatError(f"edge {edge.source} -> {edge.target}: unknown node")
            if g.has_edge(edge.source, edge.target):
                raise GraphFormatError(f"duplicate edge {edge.source} -> {edge.target}")
            g.add_edge(edge.source, edge.target, **edge.to_attrs())
            self._out[edge.source].append(edge)
        for out in self._out.values():
            out.sort(key=_edge_rank)
        self.digraph = g

    # -- access ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The orchestrator name the graph runs as (what ``App.register_graph`` uses)."""
        return str(self.meta["name"])

    @property
    def entry(self) -> str:
        """Id of the ``start`` node."""
        return str(self.meta["entry"])

    def nodes(self) -> Iterator[Node]:
        """Every node, in compilation order."""
        return iter(self._nodes.values())

    def node(self, node_id: str) -> Node:
        """The node with ``node_id``."""
        return self._nodes[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def edges(self) -> Iterator[Edge]:
        """Every edge, grouped by source in compilation order."""
        for out in self._out.values():
            yield from out

    def out_edges(self, node_id: str) -> list[Edge]:
        """Edges leaving ``node_id``: guards in order, then else/next/back, then errors."""
        return self._out[node_id]

    def expr(self, text: str) -> Expr:
        """The parsed tree of expression ``text`` (cached)."""
        tree = self._exprs.get(text)
        if tree is None:
            tree = parse_expression(text)
            self._exprs[text] = tree
        return tree

    def parse_all(self) -> None:
        """Parse every expression of the graph.

        Raises:
            GraphFormatError: naming the node and field of an invalid expression.
        """
        for node in self._nodes.values():
            for key, text in node.expressions().items():
                self._checked(text, f"node {node.id} field {key}")
        for edge in self.edges():
            if edge.guard is not None:
                self._checked(edge.guard, f"edge {edge.source} -> {edge.target} guard")
        for name, text in self.meta["constants"].items():
            self._checked(text, f"constant {name}")

    def _checked(self, text: str, where: str) -> None:
        try:
            self.expr(text)
        except ExpressionSyntaxError as exc:
            raise GraphFormatError(f"{where}: {exc}") from None

    # -- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready document (``node_link_data`` + ``schema`` + ``ir_hash``)."""
        data: dict[str, Any] = nx.node_link_data(self.digraph, edges="edges")
        data["schema"] = SCHEMA_VERSION
        data["ir_hash"] = self.ir_hash()
        return data

    def to_json(self) -> str:
        """Canonical text: sorted keys, two-space indent, trailing newline; byte-stable."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def ir_hash(self) -> str:
        """SHA-256 of the graph's meaning: nodes and edges without spans or source info."""
        meta = {k: v for k, v in self.meta.items() if k not in ("source_path", "source_sha256")}
        nodes = []
        for node in self._nodes.values():
            attrs = node.to_attrs()
            attrs.pop("span", None)
            nodes.append(attrs)
        edges = [{"source": e.source, "target": e.target, **e.to_attrs()} for e in self.edges()]
        blob = json.dumps({"meta": meta, "nodes": nodes, "edges": edges}, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Any, source: str = "<graph>") -> CompiledGraph:
        """Rebuild a graph from :meth:`to_dict` output and parse its expressions.

        Raises:
            GraphFormatError: wrong schema version, missing keys, unknown kinds, bad
                expressions.
        """
        if not isinstance(data, dict):
            raise GraphFormatError(f"{source}: expected a JSON object")
        if data.get("schema") != SCHEMA_VERSION:
            raise GraphFormatError(
                f"{source}: schema {data.get('schema')!r} is not {SCHEMA_VERSION!r}; "
                "recompile the orchestrator with this version (`durable compile`)"
            )
        try:
            meta = dict(data["graph"])
            missing = [k for k in _META_KEYS if k not in meta]
            if missing:
                raise GraphFormatError(f"{source}: graph lacks {', '.join(missing)}")
            nodes = []
            for raw in data["nodes"]:
                if raw.get("kind") not in NODE_KINDS:
                    raise GraphFormatError(f"{source}: node {raw.get('id')}: bad kind")
                nodes.append(Node.from_attrs(raw))
            edges = []
            for raw in data["edges"]:
                attrs = {k: v for k, v in raw.items() if k not in ("source", "target")}
                if attrs.get("kind") not in EDGE_KINDS:
                    raise GraphFormatError(f"{source}: edge {raw.get('source')}: bad kind")
                edges.append(Edge.from_attrs(raw["source"], raw["target"], attrs))
        except (KeyError, TypeError, AttributeError) as exc:
            raise GraphFormatError(f"{source}: malformed graph document ({exc})") from None
        graph = cls(nodes, edges, meta)
        if graph.entry not in graph:
            raise GraphFormatError(f"{source}: entry node {graph.entry!r} does not exist")
        graph.parse_all()
        recorded = data.get("ir_hash")
        if recorded is not None and recorded != graph.ir_hash():
            raise GraphFormatError(
                f"{source}: ir_hash does not match the content; the file was edited by hand "
                "or damaged. Recompile it with `durable compile`."
            )
        return graph

    @classmethod
    def from_json(cls, text: str, source: str = "<graph>") -> CompiledGraph:
        """Parse a document written by :meth:`to_json`.

        Raises:
            GraphFormatError: invalid JSON or document (see :meth:`from_dict`).
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GraphFormatError(
                f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
            ) from None
        return cls.from_dict(data, source)


_EDGE_ORDER = {"guard": 0, "else": 1, "next": 1, "back": 1, "error": 2}


def _edge_rank(edge: Edge) -> tuple[int, int]:
    return (_EDGE_ORDER[edge.kind], edge.order)
