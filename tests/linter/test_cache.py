"""The result cache: a warm run answers from the cache; any change is seen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from durableflow.linter import LintConfig, lint_paths

WriteFiles = Callable[[dict[str, str]], Path]

FLOW = """
import time
import durableflow as df

app = df.App()


@app.orchestrator
def flow(ctx, data):
    yield ctx.call_activity("a", time.time())
"""


def test_warm_run_is_answered_from_cache_with_same_findings(
    write_files: WriteFiles, tmp_path: Path
) -> None:
    root = write_files({"flows.py": FLOW})
    cache = tmp_path / "cache"
    cold = lint_paths([str(root / "flows.py")], root=root, jobs=1, cache_dir=cache)
    warm = lint_paths([str(root / "flows.py")], root=root, jobs=1, cache_dir=cache)
    assert not cold.from_cache and warm.from_cache
    assert warm.findings == cold.findings and len(cold.findings) == 1


def test_changed_content_is_linted_again(write_files: WriteFiles, tmp_path: Path) -> None:
    root = write_files({"flows.py": FLOW})
    cache = tmp_path / "cache"
    lint_paths([str(root)], root=root, jobs=1, cache_dir=cache)
    (root / "flows.py").write_text(FLOW.replace("time.time()", "data") + "\n")
    result = lint_paths([str(root)], root=root, jobs=1, cache_dir=cache)
    assert not result.from_cache and result.findings == []


def test_changed_config_is_not_answered_from_cache(write_files: WriteFiles, tmp_path: Path) -> None:
    root = write_files({"flows.py": FLOW})
    cache = tmp_path / "cache"
    lint_paths([str(root)], root=root, jobs=1, cache_dir=cache)
    result = lint_paths(
        [str(root)], LintConfig(ignore=("DUR001",)), root=root, jobs=1, cache_dir=cache
    )
    assert not result.from_cache and result.findings == []


def test_cache_directory_ignores_itself_for_git(write_files: WriteFiles, tmp_path: Path) -> None:
    root = write_files({"flows.py": FLOW})
    cache = tmp_path / "cache"
    lint_paths([str(root)], root=root, jobs=1, cache_dir=cache)
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
