"""Output formats: text, JSON, SARIF 2.1.0 and GitHub workflow annotations.

Reporters turn findings into a string; they never print (the CLI does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from durableflow.linter.ftypes import Finding

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "json", "sarif", "github")
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _text(findings: Sequence[Finding]) -> str:
    return "".join(
        f"{f.path}:{f.span.line}:{f.span.column}: {f.code} {f.message}\n" for f in findings
    )


def _json(findings: Sequence[Finding]) -> str:
    items = [
        {
            "path": f.path,
            "line": f.span.line,
            "column": f.span.column,
            "end_line": f.span.end_line,
            "end_column": f.span.end_column,
            "code": f.code,
            "message": f.message,
            "fix": None
            if f.fix is None
            else {"replacement": f.fix.replacement, "safe": f.fix.safe},
        }
        for f in findings
    ]
    return json.dumps(items, indent=2) + "\n"


def _uri(path: str, root: Path) -> str:
    candidate = Path(path)
    try:
        return candidate.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return candidate.as_posix()


def _sarif(findings: Sequence[Finding], root: Path, version: str) -> str:
    from durableflow.linter.rules import ALL_RULES

    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for position, rule in enumerate(ALL_RULES):
        index[rule.CODE] = position
        doc = " ".join((rule.__doc__ or "").split())
        rules.append(
            {
                "id": rule.CODE,
                "name": rule.NAME,
                "shortDescription": {"text": rule.MESSAGE},
                "fullDescription": {"text": doc},
                "help": {"text": doc},
                "defaultConfiguration": {"level": "error"},
            }
        )
    results = []
    for finding in findings:
        span = finding.span
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": "error",
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": _uri(finding.path, root),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": span.line,
                            "startColumn": span.column,
                            "endLine": max(span.end_line, span.line),
                            "endColumn": max(span.end_column, 1),
                        },
                    }
                }
            ],
        }
        if finding.fix is not None:
            result["properties"] = {
                "fix": finding.fix.replacement,
                "safeFix": finding.fix.safe,
            }
        results.append(result)
    log = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "durable-lint",
                        "version": version,
                        "fullName": "durable-lint (durableflow)",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _github(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        span = f.span
        props = (
            f"file={_escape_property(f.path)},line={span.line},col={span.column},"
            f"endLine={span.end_line},endColumn={span.end_column},title={f.code}"
        )
        lines.append(f"::error {props}::{_escape_data(f'{f.code} {f.message}')}\n")
    return "".join(lines)


def render(
    findings: Sequence[Finding], fmt: str, root: Path | None = None, version: str = "0"
) -> str:
    """Render findings in one of ``FORMATS``."""
    if fmt == "text":
        return _text(findings)
    if fmt == "json":
        return _json(findings)
    if fmt == "sarif":
        return _sarif(findings, root or Path.cwd(), version)
    if fmt == "github":
        return _github(findings)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
