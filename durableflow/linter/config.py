"""Configuration: ``[tool.durable-lint]`` in ``pyproject.toml``, overridden by CLI flags."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from durableflow.linter.banned import BANNED_APIS, BannedApi

if TYPE_CHECKING:
    from durableflow.discovery import DiscoveryConfig

__all__ = ["ConfigError", "LintConfig", "find_pyproject", "load_config"]

_KEYS = {
    "select",
    "ignore",
    "per-file-ignores",
    "orchestrator-decorators",
    "orchestrators",
    "extend-banned-apis",
    "allowed-helpers",
    "exclude",
}


class ConfigError(ValueError):
    """The configuration is invalid (unknown key, wrong type, unknown code)."""


@dataclass(frozen=True, slots=True)
class LintConfig:
    """Effective settings of one run.

    Attributes:
        select: Code prefixes to check (``DUR0`` selects all); empty means every rule.
        ignore: Code prefixes never reported.
        per_file_ignores: ``(glob, codes)`` pairs; globs match paths relative to the project root.
        orchestrator_decorators: Extra decorator names that mark orchestrators.
        orchestrators: Functions that are orchestrators (``module:func`` or a function name).
        extend_banned_apis: ``(qualified name, code, why, replacement)`` added to the table.
        allowed_helpers: Glob patterns of qualified helper names that are trusted, not followed.
        exclude: Glob patterns of paths not to lint when walking directories.
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    orchestrator_decorators: tuple[str, ...] = ()
    orchestrators: tuple[str, ...] = ()
    extend_banned_apis: tuple[tuple[str, str, str, str], ...] = ()
    allowed_helpers: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def enabled(self, code: str) -> bool:
        """Whether findings with ``code`` are reported at all."""
        if self.select and not any(code.startswith(prefix) for prefix in self.select):
            return False
        return not any(code.startswith(prefix) for prefix in self.ignore)

    def ignored_in(self, relative_path: str, code: str) -> bool:
        """Whether ``per-file-ignores`` silences ``code`` in the file."""
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(relative_path, pattern) and any(code.startswith(c) for c in codes):
                return True
        return False

    def is_allowed_helper(self, qualified: str) -> bool:
        """Whether calls to ``qualified`` are trusted and not followed."""
        return any(fnmatch.fnmatchcase(qualified, pattern) for pattern in self.allowed_helpers)

    def discovery(self) -> DiscoveryConfig:
        """The discovery settings."""
        # Imported here so that a fully cached run never imports libcst.
        from durableflow.discovery import DiscoveryConfig

        return DiscoveryConfig(self.orchestrator_decorators, self.orchestrators)

    def banned_table(self) -> Mapping[str, BannedApi]:
        """The banned-API table with the project's extensions."""
        if not self.extend_banned_apis:
            return BANNED_APIS
        table = dict(BANNED_APIS)
        for name, code, why, replacement in self.extend_banned_apis:
            table[name] = BannedApi(code, why, replacement)
        return table

    def fingerprint(self) -> str:
        """A stable hash of the settings that change analysis results (for the cache)."""
        data = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(data.encode()).hexdigest()[:16]

    def merged(self, **overrides: Any) -> LintConfig:
        """Return a copy with the given fields replaced (CLI flags override the file)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _strings(value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.durable-lint] {key} must be a list of strings")
    return tuple(value)


def _banned(value: object) -> tuple[tuple[str, str, str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError("[tool.durable-lint] extend-banned-apis must be a table")
    entries = []
    for name, spec in value.items():
        if isinstance(spec, str):
            spec = {"code": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("code"), str):
            raise ConfigError(f"extend-banned-apis.{name} needs a `code`")
        why = str(spec.get("message", "is not replay-safe"))
        replacement = str(spec.get("replacement", "an activity (`ctx.call_activity`)"))
        entries.append((str(name), spec["code"], why, replacement))
    return tuple(sorted(entries))


def config_from_table(table: Mapping[str, Any]) -> LintConfig:
    """Build a config from the ``[tool.durable-lint]`` table."""
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"unknown [tool.durable-lint] keys: {', '.join(sorted(unknown))}")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError("[tool.durable-lint] per-file-ignores must be a table")
    return LintConfig(
        select=_strings(table.get("select", []), "select"),
        ignore=_strings(table.get("ignore", []), "ignore"),
        per_file_ignores=tuple(
            (pattern, _strings(codes, f"per-file-ignores.{pattern}"))
            for pattern, codes in sorted(per_file.items())
        ),
        orchestrator_decorators=_strings(
            table.get("orchestrator-decorators", []), "orchestrator-decorators"
        ),
        orchestrators=_strings(table.get("orchestrators", []), "orchestrators"),
        extend_banned_apis=_banned(table.get("extend-banned-apis", {})),
        allowed_helpers=_strings(table.get("allowed-helpers", []), "allowed-helpers"),
        exclude=_strings(table.get("exclude", []), "exclude"),
    )


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(pyproject: Path | None) -> LintConfig:
    """Read ``[tool.durable-lint]`` from ``pyproject`` (defaults if absent)."""
    if pyproject is None:
        return LintConfig()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from exc
    table = data.get("tool", {}).get("durable-lint", {})
    return config_from_table(table)
