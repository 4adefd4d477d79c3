"""A fast read-only traversal of LibCST trees.

``CSTNode.visit`` rebuilds every node it passes through (it is a transformer underneath), which
costs about as much as parsing. Rules only read the tree, so this walker reads the dataclass fields
directly, skips whitespace and punctuation, and dispatches to the same ``visit_<Node>`` /
``leave_<Node>`` method names as ``libcst.CSTVisitor`` (returning False from ``visit_`` skips the
children). Children are visited in field order, which is source order for every node whose order
matters here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import libcst as cst

__all__ = ["FastVisitor"]

_SKIP_FIELDS = frozenset(
    {
        "leading_lines",
        "lines_after_decorators",
        "lpar",
        "rpar",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "comma",
        "semicolon",
        "equal",
        "dot",
        "colon",
        "header",
        "footer",
        "relative",
        "asynchronous",
        "operator",
        "trailing_whitespace",
        "newline",
        "walrus",
        "arrow",
        "star",
        "indent",
        "comment",
    }
)

_Dispatch = tuple[tuple[str, ...], Callable[..., Any] | None, Callable[..., Any] | None]
_CACHE: dict[tuple[type, type], _Dispatch] = {}


def _fields(node_type: type) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _SKIP_FIELDS and not f.name.startswith("whitespace")
    )


class FastVisitor:
    """Base class: subclass and define ``visit_<Node>``/``leave_<Node>`` methods; call ``walk``."""

    def walk(self, node: cst.CSTNode) -> None:
        """Visit ``node`` and its descendants."""
        key = (type(self), type(node))
        entry = _CACHE.get(key)
        if entry is None:
            name = type(node).__name__
            entry = (
                _fields(type(node)),
                getattr(type(self), f"visit_{name}", None),
                getattr(type(self), f"leave_{name}", None),
            )
            _CACHE[key] = entry
        fields, visit, leave = entry
        if visit is None or visit(self, node) is not False:
            for field in fields:
                value = getattr(node, field)
                if isinstance(value, cst.CSTNode):
                    self.walk(value)
                elif isinstance(value, tuple | list):
                    for item in value:
                        if isinstance(item, cst.CSTNode):
                            self.walk(item)
        if leave is not None:
            leave(self, node)
