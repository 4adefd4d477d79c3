"""The compiled graph as data: node/edge records, JSON form and schema, expression language.

Imports only ``durableflow.core``, lark and networkx; never libcst.
"""

from durableflow.ir.ast import Expr
from durableflow.ir.errors import ExpressionEvalError, ExpressionSyntaxError, GraphFormatError
from durableflow.ir.evaluate import BUILTINS, ContextView, assign_target, evaluate
from durableflow.ir.graph import SCHEMA_VERSION, CompiledGraph, graph_schema
from durableflow.ir.nodes import DURABLE_KINDS, EDGE_KINDS, NODE_KINDS, Edge, Node, Span
from durableflow.ir.parse import parse_expression
from durableflow.ir.printer import print_expression
from durableflow.ir.trace import InstanceTrace, TracedAction

__all__ = [
    "BUILTINS",
    "DURABLE_KINDS",
    "EDGE_KINDS",
    "NODE_KINDS",
    "SCHEMA_VERSION",
    "CompiledGraph",
    "ContextView",
    "Edge",
    "Expr",
    "ExpressionEvalError",
    "ExpressionSyntaxError",
    "GraphFormatError",
    "InstanceTrace",
    "Node",
    "Span",
    "TracedAction",
    "assign_target",
    "evaluate",
    "graph_schema",
    "parse_expression",
    "print_expression",
]


def load_graph(path: str) -> CompiledGraph:
    """Read a graph JSON file written by ``durable compile``.

    Raises:
        GraphFormatError: the file cannot be read or is not a valid graph document.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise GraphFormatError(f"{path}: cannot read graph: {exc.strerror}") from None
    return CompiledGraph.from_json(text, path)


__all__ += ["load_graph"]
