"""The result cache in ``.durable-lint-cache/``: keyed by content, configuration and version.

Two levels. ``index-<config>.json`` maps each path to ``(mtime_ns, size, sha256, candidate)`` so
an unchanged file is not even read again; ``results/<key>.json`` holds one module's analysis,
keyed by its content hash, module name, requested helper roots, configuration and linter
version; ``runs/<key>.json`` holds a whole run's findings keyed by every file's hash, so a warm run
of an unchanged tree reads three small files. JSON, never pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["ResultCache", "linter_version"]

_SCHEMA = "1"


def linter_version() -> str:
    """Package version plus a stamp of the linter's own source files (sizes and mtimes)."""
    from durableflow.linter import __file__ as package_file

    root = Path(package_file).parent
    stamp = hashlib.sha256(_SCHEMA.encode())
    for directory, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(directory, name))
                stamp.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    discovery = Path(package_file).parent.parent / "discovery.py"
    if discovery.exists():
        stat = discovery.stat()
        stamp.update(f"discovery:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return stamp.hexdigest()[:16]


def _ensure_directory(root: Path, directory: Path) -> None:
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    ignore = root / ".gitignore"
    if not ignore.exists():
        # Like .pytest_cache and .ruff_cache: never committed, even where nothing ignores it.
        ignore.write_text("# created by durable-lint\n*\n", encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    # Write-then-rename so parallel runs never read a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


class ResultCache:
    """Read and write cache entries under ``directory`` for one configuration fingerprint."""

    def __init__(self, directory: Path, config_fingerprint: str, version: str) -> None:
        self.directory = directory
        self.salt = f"{version}:{config_fingerprint}"
        self._index_path = directory / f"index-{config_fingerprint}.json"
        loaded = _read_json(self._index_path)
        self.index: dict[str, list[Any]] = loaded if isinstance(loaded, dict) else {}
        self._dirty = False

    def lookup_file(self, path: str, stat: os.stat_result) -> tuple[str, bool] | None:
        """``(sha256, candidate)`` of an unchanged file, or None if it must be read."""
        entry = self.index.get(path)
        if entry and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            return str(entry[2]), bool(entry[3])
        return None

    def remember_file(self, path: str, stat: os.stat_result, sha: str, candidate: bool) -> None:
        """Record a file's hash and pre-filter verdict."""
        self.index[path] = [stat.st_mtime_ns, stat.st_size, sha, candidate]
        self._dirty = True

    def key(self, *parts: str) -> str:
        """A cache key over the salt and ``parts``."""
        digest = hashlib.sha256(self.salt.encode())
        for part in parts:
            digest.update(b"\0" + part.encode())
        return digest.hexdigest()

    def get(self, kind: str, key: str) -> Any:
        """The stored JSON for ``key``, or None."""
        return _read_json(self.directory / kind / f"{key}.json")

    def put(self, kind: str, key: str, data: Any) -> None:
        """Store JSON under ``key``."""
        _ensure_directory(self.directory, self.directory / kind)
        _write_json(self.directory / kind / f"{key}.json", data)

    def flush(self) -> None:
        """Write the file index if it changed."""
        if self._dirty:
            _ensure_directory(self.directory, self.directory)
            _write_json(self._index_path, self.index)
            self._dirty = False
