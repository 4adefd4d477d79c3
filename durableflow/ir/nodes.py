"""Node and edge records of the compiled graph: frozen dataclasses, a leaf module.

A node's fields beyond ``id``/``kind``/``label``/``region``/``span`` depend on its kind; unused
fields keep their defaults and are left out of the JSON form. Expressions are source text in
the expression language (see ``expr.lark``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DURABLE_KINDS",
    "EDGE_KINDS",
    "NODE_KINDS",
    "Edge",
    "Node",
    "Span",
]

NODE_KINDS = (
    "start",
    "end",
    "fail",
    "assign",
    "activity",
    "suborchestration",
    "timer",
    "wait_event",
    "choice",
    "all",
    "any",
    "map",
    "continue_as_new",
)
"""Every node kind, as ARCHITECTURE.md fixes them."""

DURABLE_KINDS = frozenset({"activity", "suborchestration", "timer", "wait_event", "map"})
"""Kinds that create durable actions (sequence numbers in history)."""

EDGE_KINDS = ("next", "guard", "else", "error", "back")
"""Every edge kind."""


@dataclass(frozen=True, slots=True)
class Span:
    """Source position: 1-based lines, 0-based columns (LibCST's convention)."""

    line: int
    column: int
    end_line: int
    end_column: int

    def as_list(self) -> list[int]:
        """``[line, column, end_line, end_column]``."""
        return [self.line, self.column, self.end_line, self.end_column]


@dataclass(frozen=True, slots=True)
class Node:
    """One state of the graph.

    Attributes:
        id: Stable id ``<function>/<region path>/<kind>:<label>#<k>``.
        kind: One of :data:`NODE_KINDS`.
        label: Activity/event/sub-orchestration name, or a short word for other kinds.
        region: Region path (``""`` at the top level), e.g. ``for#0`` or ``try#0/body``.
        span: Source position of the statement.
        name: Activity, sub-orchestration or event name.
        target: Assignment target (expression text): the result, or the task when ``wait``
            is false.
        value: Main expression: input (durable kinds), assigned value, fire time (timer),
            output (end), tasks list (all/any), exception value (fail), custom status.
        op: For ``assign``: ``=``, an augmented operator (``+=``...), ``append``, ``cancel``,
            ``custom_status``, ``iter`` (a ``for`` loop's start) or ``pass``; for ``all``:
            ``single`` when one stored task is yielded as it is.
        wait: Durable kinds: yield the task (true) or keep it as a handle (false).
        retry: Retry policy fields -> expression text.
        timeout: ``wait_event``: timeout expression.
        instance_id: ``suborchestration``: child instance id expression.
        item: ``map`` and ``for`` choices: the loop target text.
        iter: ``map`` and ``for`` choices: the iterated expression.
        conds: ``map``: the comprehension's ``if`` filters.
        call: ``map``: ``activity`` or ``suborchestration``.
        exception: ``fail``: built-in exception class name, or empty to raise ``value``.
        loop: ``choice``: ``if``, ``while`` or ``for``.
    """

    id: str
    kind: str
    label: str
    region: str = ""
    span: Span | None = None
    name: str | None = None
    target: str | None = None
    value: str | None = None
    op: str | None = None
    wait: bool = True
    retry: tuple[tuple[str, str], ...] = ()
    timeout: str | None = None
    instance_id: str | None = None
    item: str | None = None
    iter: str | None = None
    conds: tuple[str, ...] = ()
    call: str | None = None
    exception: str | None = None
    loop: str | None = None

    def to_attrs(self) -> dict[str, Any]:
        """JSON-ready attributes, defaults left out."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("id", "kind", "label", "region"):
                out[f.name] = value
            elif value != f.default:
                if isinstance(value, Span):
                    value = value.as_list()
                elif f.name == "retry":
                    value = dict(value)
                elif isinstance(value, tuple):
                    value = list(value)
                out[f.name] = value
        return out

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Node:
        """Rebuild a node from :meth:`to_attrs` output."""
        data = dict(attrs)
        span = data.pop("span", None)
        retry = data.pop("retry", None)
        conds = data.pop("conds", None)
        return cls(
            span=Span(*span) if span is not None else None,
            retry=tuple(sorted(retry.items())) if retry else (),
            conds=tuple(conds) if conds else (),
            **data,
        )

    def expressions(self) -> dict[str, str]:
        """Every expression field of the node that is set, by field name."""
        out = {
            key: getattr(self, key)
            for key in ("target", "value", "timeout", "instance_id", "item", "iter")
            if getattr(self, key) is not None
        }
        for i, cond in enumerate(self.conds):
            out[f"conds[{i}]"] = cond
        for key, text in self.retry:
            out[f"retry.{key}"] = text
        return out


@dataclass(frozen=True, slots=True)
class Edge:
    """One transition.

    Attributes:
        source: Node id.
        target: Node id.
        kind: One of :data:`EDGE_KINDS`.
        order: Evaluation order among the source's guard edges, or among its error edges.
        guard: ``guard`` edges: the condition (expression text).
        names: ``error`` edges: exception class names the edge catches.
        bind: ``error`` edges: the variable the exception is bound to.
    """

    source: str
    target: str
    kind: str = "next"
    order: int = 0
    guard: str | None = None
    names: tuple[str, ...] = ()
    bind: str | None = None

    def to_attrs(self) -> dict[str, Any]:
        """JSON-ready attributes (``source``/``target`` excluded), defaults left out."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.order:
            out["order"] = self.order
        if self.guard is not None:
            out["guard"] = self.guard
        if self.names:
            out["names"] = list(self.names)
        if self.bind is not None:
            out["bind"] = self.bind
        return out

    @classmethod
    def from_attrs(cls, source: str, target: str, attrs: dict[str, Any]) -> Edge:
        """Rebuild an edge from :meth:`to_attrs` output."""
        return cls(
            source=source,
            target=target,
            kind=attrs.get("kind", "next"),
            order=attrs.get("order", 0),
            guard=attrs.get("guard"),
            names=tuple(attrs.get("names", ())),
            bind=attrs.get("bind"),
        )
