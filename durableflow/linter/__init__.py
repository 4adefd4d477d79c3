"""durable-lint: static checks that orchestrator code is deterministic under replay.

The API returns values and never prints; ``durableflow.cli.lint`` is the command-line front.
"""

from __future__ import annotations

from durableflow.linter.config import ConfigError, LintConfig, find_pyproject, load_config
from durableflow.linter.engine import LintResult, lint_paths, lint_source
from durableflow.linter.ftypes import Finding, FixInfo, Span

__all__ = [
    "ConfigError",
    "Finding",
    "FixInfo",
    "LintConfig",
    "LintResult",
    "Span",
    "find_pyproject",
    "lint_paths",
    "lint_source",
    "load_config",
]
