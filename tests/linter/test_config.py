"""pyproject.toml configuration and CLI overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from durableflow.cli.lint import main
from durableflow.linter import ConfigError, LintConfig, lint_paths, load_config

WriteFiles = Callable[[dict[str, str]], Path]

FLOWS = """
import time
import uuid
import durableflow as df

app = df.App()


@app.orchestrator
def flow(ctx, data):
    yield ctx.call_activity("a", time.time())
    yield ctx.call_activity("b", str(uuid.uuid4()))


@workflow
def custom(ctx, data):
    yield ctx.call_activity("c", time.time())


def listed(ctx, data):
    yield ctx.call_activity("d", time.time())
"""


def codes(root: Path, config: LintConfig) -> list[tuple[int, str]]:
    result = lint_paths([str(root)], config, root=root, jobs=1)
    return [(f.span.line, f.code) for f in result.findings]


def test_select_keeps_only_selected_codes(write_files: WriteFiles) -> None:
    root = write_files({"flows.py": FLOWS})
    assert codes(root, LintConfig(select=("DUR002",))) == [(11, "DUR002")]


def test_ignore_drops_codes(write_files: WriteFiles) -> None:
    root = write_files({"flows.py": FLOWS})
    assert codes(root, LintConfig(ignore=("DUR001",))) == [(11, "DUR002")]


def test_per_file_ignores_match_paths_relative_to_root(write_files: WriteFiles) -> None:
    root = write_files({"flows.py": FLOWS})
    config = LintConfig(per_file_ignores=(("flow*.py", ("DUR001",)),))
    assert codes(root, config) == [(11, "DUR002")]


def test_orchestrator_decorators_and_explicit_list_add_orchestrators(
    write_files: WriteFiles,
) -> None:
    root = write_files({"flows.py": FLOWS})
    config = LintConfig(orchestrator_decorators=("workflow",), orchestrators=("flows:listed",))
    assert codes(root, config) == [(10, "DUR001"), (11, "DUR002"), (16, "DUR001"), (20, "DUR001")]


def test_pyproject_table_is_read(write_files: WriteFiles) -> None:
    root = write_files(
        {
            "pyproject.toml": """
            [tool.durable-lint]
            select = ["DUR001"]
            orchestrator-decorators = ["workflow"]
            allowed-helpers = ["x.*"]
            [tool.durable-lint.per-file-ignores]
            "tests/*" = ["DUR"]
            [tool.durable-lint.extend-banned-apis."mylib.now"]
            code = "DUR001"
            message = "reads the clock"
            replacement = "`ctx.current_utc_datetime`"
            """
        }
    )
    config = load_config(root / "pyproject.toml")
    assert config.select == ("DUR001",)
    assert config.orchestrator_decorators == ("workflow",)
    assert config.allowed_helpers == ("x.*",)
    assert config.per_file_ignores == (("tests/*", ("DUR",)),)
    assert config.extend_banned_apis == (
        ("mylib.now", "DUR001", "reads the clock", "`ctx.current_utc_datetime`"),
    )


def test_unknown_key_is_a_config_error(write_files: WriteFiles) -> None:
    root = write_files({"pyproject.toml": "[tool.durable-lint]\nselec = []\n"})
    with pytest.raises(ConfigError, match="selec"):
        load_config(root / "pyproject.toml")


def test_cli_flags_override_the_file(
    write_files: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files(
        {"pyproject.toml": '[tool.durable-lint]\nselect = ["DUR002"]\n', "flows.py": FLOWS}
    )
    args = ["--no-cache", "-j", "1", "--config", str(root / "pyproject.toml"), str(root)]
    assert main(args) == 1
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == ["DUR002"]
    assert main([*args, "--select", "DUR001"]) == 1
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == ["DUR001"]


def test_documented_config_example_loads() -> None:
    import tomllib

    from durableflow.linter.config import config_from_table
    from durableflow.linter.docs import CONFIG_EXAMPLE

    config = config_from_table(tomllib.loads(CONFIG_EXAMPLE)["tool"]["durable-lint"])
    assert config.ignore == ("DUR013",) and config.extend_banned_apis[0][0] == "myapp.clock.now"
