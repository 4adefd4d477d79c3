"""Compile errors: one stable code per construct outside the compilable subset.

Codes, once published, never change meaning (the registry below is the single source).
"""

from __future__ import annotations

from dataclasses import dataclass

from durableflow.core.errors import DurableflowError

__all__ = ["CODES", "CompileError", "CompileFailed"]

CODES: dict[str, str] = {
    "DFC001": "async orchestrator or await",
    "DFC002": "nested function, class or lambda",
    "DFC003": "with statement",
    "DFC004": "del, global or nonlocal",
    "DFC005": "yield inside an expression",
    "DFC006": "yield of something that is not a durable call",
    "DFC007": "durable call in an unsupported position",
    "DFC008": "unsupported task_any argument",
    "DFC009": "unsupported task_all argument",
    "DFC010": "nondeterministic call",
    "DFC011": "call of a function outside the expression language",
    "DFC012": "name undefined, or unassigned on some path",
    "DFC013": "expression syntax outside the expression language",
    "DFC014": "unsupported try statement or exception name",
    "DFC015": "unsupported raise",
    "DFC016": "loop with else",
    "DFC017": "unsupported assignment target",
    "DFC018": "unsupported retry policy",
    "DFC019": "activity or orchestrator name is not a literal or a function",
    "DFC020": "unsupported use of the orchestration context",
    "DFC021": "unsupported statement",
    "DFC022": "expression statement without a durable effect",
    "DFC023": "unsupported arguments to a durable call",
    "DFC024": "Python syntax error",
    "DFC025": "no orchestrator of the requested name",
}
"""Every compile error code and what it covers."""


@dataclass(frozen=True, slots=True)
class CompileError:
    """One problem in one orchestrator.

    Attributes:
        code: ``DFC0xx`` (see :data:`CODES`).
        message: What is wrong.
        hint: What to do instead.
        path: Source file.
        line: 1-based line.
        column: 1-based column.
        function: The orchestrator function it is in.
    """

    code: str
    message: str
    hint: str
    path: str
    line: int
    column: int
    function: str = ""

    def format(self) -> str:
        """``path:line:col: CODE message; hint (durable compile --explain CODE)``."""
        return (
            f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}; {self.hint} "
            f"(`durable compile --explain {self.code}`)"
        )


class CompileFailed(DurableflowError):
    """Compilation found errors; ``errors`` holds every one of them, in source order."""

    def __init__(self, errors: list[CompileError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.path, e.line, e.column, e.code))
        lines = "\n".join(e.format() for e in self.errors)
        super().__init__(f"{len(self.errors)} compile error(s):\n{lines}")
