"""F-strings in compiled expressions: rewritten as ``str()``/``format()`` concatenations."""

from __future__ import annotations

import ast as pyast
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from durableflow.compiler.expressions import FunctionScope

__all__ = ["Concatenations", "FStrings", "has_concatenated_fstring"]


def _has_fstring(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.FormattedString):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _has_fstring(node.left) or _has_fstring(node.right)
    return False


class _ConcatenationFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        self.found = self.found or _has_fstring(node)
        return False


def has_concatenated_fstring(node: cst.CSTNode) -> bool:
    finder = _ConcatenationFinder()
    node.visit(finder)
    return finder.found


class Concatenations(cst.CSTTransformer):
    """``f"a{x}" "b"`` -> ``(f"a{x}" + "b")`` before f-strings are rewritten (LibCST cannot hold
    a rewritten, parenthesized part inside an implicit concatenation)."""

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return False  # rebuilt from the original parts in leave

    def leave_ConcatenatedString(
        self, original: cst.ConcatenatedString, updated: cst.ConcatenatedString
    ) -> cst.BaseExpression:
        if not _has_fstring(original):
            return updated
        parts: list[cst.BaseExpression] = []
        pending: list[cst.BaseExpression] = [original]
        while pending:
            current = pending.pop()
            if isinstance(current, cst.ConcatenatedString):
                pending += [current.right, current.left]
            else:
                parts.append(current)
        joined = parts[0]
        for part in parts[1:]:
            joined = cst.BinaryOperation(left=joined, operator=cst.Add(), right=part)
        return joined.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class FStrings(cst.CSTTransformer):
    """Rewrites f-strings as ``'text' + str(expr) + ...``: ``format(x, '')`` is ``str(x)`` for
    the JSON values orchestrators handle; a format spec becomes ``format(x, spec)`` and a
    conversion ``repr(x)`` / ``str(x)``. Generator expressions get their own parentheses (the
    expression language has no bare generator argument), and implicitly concatenated strings
    become ``+`` once a part is no longer a plain string."""

    def __init__(self, scope: FunctionScope, fallback: cst.CSTNode) -> None:
        self.scope = scope
        self.fallback = fallback
        self.ok = True

    def _fail(self, node: cst.CSTNode, message: str) -> None:
        at = node if node in self.scope.positions else self.fallback
        self.scope.error(at, "DFC013", message, "format the value in an activity, or use str()")
        self.ok = False

    def _field(self, original: cst.CSTNode, value: pyast.FormattedValue) -> str | None:
        text = pyast.unparse(value.value)
        conversion = {-1: None, ord("s"): "str", ord("r"): "repr"}.get(value.conversion, "?")
        if conversion == "?":
            self._fail(original, "f-string field with the !a conversion")
            return None
        if conversion is not None:
            text = f"{conversion}({text})"
        spec = value.format_spec
        if spec is None:
            return text if conversion is not None else f"str({text})"
        if not isinstance(spec, pyast.JoinedStr) or not all(
            isinstance(part, pyast.Constant) for part in spec.values
        ):
            self._fail(original, "f-string format spec with a nested field")
            return None
        literal = "".join(
            str(part.value) for part in spec.values if isinstance(part, pyast.Constant)
        )
        return f"format({text}, {literal!r})"

    def leave_FormattedString(
        self, original: cst.FormattedString, updated: cst.FormattedString
    ) -> cst.BaseExpression:
        code = self.scope.module.code_for_node(original)
        try:
            joined = pyast.parse(code, mode="eval").body
        except SyntaxError:  # pragma: no cover - libcst parsed it already
            joined = None
        parts: list[str] = []
        if not isinstance(joined, pyast.JoinedStr):  # pragma: no cover
            self.ok = False
            return updated
        for value in joined.values:
            if isinstance(value, pyast.Constant):
                parts.append(repr(value.value))
            elif isinstance(value, pyast.FormattedValue):
                field_text = self._field(original, value)
                if field_text is None:
                    return updated
                parts.append(field_text)
        text = " + ".join(parts) if parts else "''"
        return cst.parse_expression(f"({text})")

    def leave_GeneratorExp(
        self, original: cst.GeneratorExp, updated: cst.GeneratorExp
    ) -> cst.BaseExpression:
        if updated.lpar:
            return updated
        return updated.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
