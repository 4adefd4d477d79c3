"""Which files to lint, their module names, and the cheap text test that skips most of them."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceFile", "candidate_markers", "is_candidate", "iter_python_files", "module_name_of"]

_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        "node_modules",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".durable-lint-cache",
        "site-packages",
    }
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to lint: its path as given/found, module name and whether it is a package init."""

    path: str
    module_name: str
    is_package: bool


def _excluded(path: str, exclude: tuple[str, ...]) -> bool:
    posix = path.replace(os.sep, "/")
    return any(
        fnmatch.fnmatch(posix, pattern) or fnmatch.fnmatch(posix, f"*/{pattern}")
        for pattern in exclude
    )


def iter_python_files(paths: Iterable[str], exclude: tuple[str, ...] = ()) -> Iterator[str]:
    """Yield ``.py`` files under ``paths``; explicitly named files are always yielded."""
    for given in map(os.path.normpath, paths):
        if os.path.isfile(given):
            yield given
            continue
        for directory, dirnames, filenames in os.walk(given):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in _SKIP_DIRS
                and not d.endswith(".egg-info")
                and not _excluded(os.path.join(directory, d), exclude)
            )
            for name in sorted(filenames):
                if name.endswith(".py"):
                    full = os.path.join(directory, name)
                    if not _excluded(full, exclude):
                        yield full


def module_name_of(path: str, package_dirs: dict[str, bool]) -> tuple[str, bool]:
    """Dotted module name of ``path``: the file plus every enclosing directory with ``__init__.py``.

    ``package_dirs`` caches which directories are packages.
    """
    absolute = os.path.abspath(path)
    directory, filename = os.path.split(absolute)
    stem = filename[:-3] if filename.endswith(".py") else Path(filename).stem
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while True:
        known = package_dirs.get(directory)
        if known is None:
            known = os.path.isfile(os.path.join(directory, "__init__.py"))
            package_dirs[directory] = known
        if not known:
            break
        directory, name = os.path.split(directory)
        parts.append(name)
        if not name:
            break
    name = ".".join(reversed(parts)) or stem
    return name, is_package


def candidate_markers(decorators: Iterable[str], explicit: Iterable[str]) -> tuple[bytes, ...]:
    """Byte strings of which at least one appears in every file that can define an orchestrator."""
    # dapr names its orchestrators workflows and need not mention "orchestrator" anywhere.
    markers = {b"rchestrat", b".workflow", b"register_workflow", b"DaprWorkflowContext"}
    for name in (*decorators, *explicit):
        last = name.replace(":", ".").rsplit(".", 1)[-1]
        if last:
            markers.add(last.encode())
    return tuple(sorted(markers))


def is_candidate(data: bytes, markers: tuple[bytes, ...]) -> bool:
    """The pre-filter: can this file define or register an orchestrator?"""
    return any(marker in data for marker in markers)
