"""Plain data shared by every part of the linter; imports nothing of ours.

Everything here is a frozen dataclass that survives a trip through JSON (the result cache) and
between processes (parallel linting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Finding",
    "FixInfo",
    "FunctionSummary",
    "ModuleResult",
    "RawFinding",
    "Span",
]


@dataclass(frozen=True, slots=True)
class Span:
    """A source range; lines are 1-based, columns are 1-based (as editors and flake8 show them)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class FixInfo:
    """A rewrite the linter can apply.

    Attributes:
        replacement: The code that replaces the flagged code.
        safe: True for ``--fix``; False means ``--unsafe-fixes`` is needed.
    """

    replacement: str
    safe: bool


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A finding inside one function, before call chains and suppression are applied."""

    code: str
    message: str
    span: Span
    fix: FixInfo | None = None


@dataclass(frozen=True, slots=True)
class FunctionSummary:
    """What the cross-module pass needs to know about one analysed function.

    Attributes:
        qualname: ``package.module.function`` (``package.module.Class.method`` for methods).
        findings: Findings inside the function body, not yet suppressed.
        calls: Qualified names of the functions it calls directly.
    """

    qualname: str
    findings: tuple[RawFinding, ...]
    calls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModuleResult:
    """The analysis of one file.

    Attributes:
        path: The file, as given to the linter.
        module_name: Its dotted module name.
        orchestrators: Qualified names of the orchestrators it defines.
        functions: Summaries of the analysed functions (orchestrators and requested helpers, and
            the module-local helpers they reach).
        module_findings: Findings outside functions (syntax errors, star imports).
        suppressions: Line -> suppressed codes (an empty tuple suppresses every code).
        defined: Qualified names of all functions the module defines (analysed or not).
        reexports: Module-level imported names -> what they refer to (``from .impl import f``
            in ``pkg/__init__.py`` makes ``pkg.f`` mean ``pkg.impl.f``).
        activities: Qualified names of the activities the module defines.
        registers: ``(qualified name, API)`` of functions of other modules that this one
            registers as orchestrators (``worker.add_orchestrator(flows.checkout)``).
    """

    path: str
    module_name: str
    orchestrators: tuple[str, ...]
    functions: tuple[FunctionSummary, ...]
    module_findings: tuple[RawFinding, ...]
    suppressions: dict[int, tuple[str, ...]] = field(default_factory=dict)
    defined: tuple[str, ...] = ()
    reexports: dict[str, str] = field(default_factory=dict)
    activities: tuple[str, ...] = ()
    registers: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable form (see ``from_json``)."""
        return {
            "path": self.path,
            "module_name": self.module_name,
            "orchestrators": list(self.orchestrators),
            "functions": [
                {
                    "qualname": f.qualname,
                    "findings": [_finding_json(r) for r in f.findings],
                    "calls": list(f.calls),
                }
                for f in self.functions
            ],
            "module_findings": [_finding_json(r) for r in self.module_findings],
            "suppressions": {str(k): list(v) for k, v in self.suppressions.items()},
            "defined": list(self.defined),
            "reexports": self.reexports,
            "activities": list(self.activities),
            "registers": [list(pair) for pair in self.registers],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModuleResult:
        """Rebuild a result written by ``to_json``."""
        return cls(
            path=data["path"],
            module_name=data["module_name"],
            orchestrators=tuple(data["orchestrators"]),
            functions=tuple(
                FunctionSummary(
                    qualname=f["qualname"],
                    findings=tuple(_finding_from_json(r) for r in f["findings"]),
                    calls=tuple(f["calls"]),
                )
                for f in data["functions"]
            ),
            module_findings=tuple(_finding_from_json(r) for r in data["module_findings"]),
            suppressions={int(k): tuple(v) for k, v in data["suppressions"].items()},
            defined=tuple(data["defined"]),
            reexports=dict(data["reexports"]),
            activities=tuple(data["activities"]),
            registers=tuple((name, api) for name, api in data.get("registers", ())),
        )


def _finding_json(raw: RawFinding) -> dict[str, Any]:
    span = raw.span
    fix = None if raw.fix is None else [raw.fix.replacement, raw.fix.safe]
    return {
        "code": raw.code,
        "message": raw.message,
        "span": [span.line, span.column, span.end_line, span.end_column],
        "fix": fix,
    }


def _finding_from_json(data: dict[str, Any]) -> RawFinding:
    fix = data["fix"]
    return RawFinding(
        code=data["code"],
        message=data["message"],
        span=Span(*data["span"]),
        fix=None if fix is None else FixInfo(fix[0], fix[1]),
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem.

    Attributes:
        path: File the problem is in.
        span: Where in the file.
        code: Rule code, ``DUR000``..``DUR015``.
        message: What is wrong and what to use instead (with the call chain for helpers).
        fix: The available rewrite, if any.
        chain: Qualified names from the orchestrator to the function holding the problem.
    """

    path: str
    span: Span
    code: str
    message: str
    fix: FixInfo | None = None
    chain: tuple[str, ...] = ()

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        """Order for output: path, then position, then code."""
        return (self.path, self.span.line, self.span.column, self.code)
