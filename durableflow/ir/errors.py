"""Errors of the expression language and of graph documents."""

from __future__ import annotations

from durableflow.core.errors import DurableflowError

__all__ = ["ExpressionEvalError", "ExpressionSyntaxError", "GraphFormatError"]


class ExpressionSyntaxError(DurableflowError, ValueError):
    """An expression's text is not in the expression language.

    Attributes:
        text: The expression text.
        line: 1-based line of the error inside ``text``.
        column: 1-based column of the error inside ``text``.
        context: The offending line with a caret under the error (from lark's ``get_context``).
        reason: What is wrong, without the position.
    """

    def __init__(self, text: str, line: int, column: int, context: str, reason: str) -> None:
        self.text = text
        self.line = line
        self.column = column
        self.context = context
        self.reason = reason
        super().__init__(f"{reason} at line {line}, column {column}:\n{context}")


class ExpressionEvalError(DurableflowError):
    """Evaluating an expression failed. The only exception evaluation raises.

    Attributes:
        expression: The printed expression that failed.
        original: The Python exception the operation raised, if any (the graph interpreter
            re-raises it, so a graph fails exactly as its source generator would).
    """

    def __init__(self, message: str, expression: str = "", original: Exception | None = None):
        self.expression = expression
        self.original = original
        where = f" in `{expression}`" if expression else ""
        super().__init__(f"{message}{where}")


class GraphFormatError(DurableflowError, ValueError):
    """A graph document is malformed (bad JSON, wrong schema version, invalid expression)."""
