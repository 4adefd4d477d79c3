"""Which store a command uses, and that commands that only read never create one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import durableflow as df
from durableflow.cli import main
from durableflow.core.errors import StoreNotFoundError
from durableflow.runtime.store import open_store

# Every command that reads or manages instances, with the arguments it needs.
READERS = [
    ["status", "x"],
    ["list"],
    ["history", "x"],
    ["raise-event", "x", "go"],
    ["terminate", "x"],
    ["suspend", "x"],
    ["resume", "x"],
    ["purge", "x"],
    ["replay", "x", "--app", "tests.runtime.test_client:app"],
    ["graph", "examples/function_chaining.py", "--instance", "x"],
]


@pytest.mark.parametrize("argv", READERS, ids=lambda argv: argv[0])
def test_reading_a_store_that_does_not_exist_fails_and_creates_nothing(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    code = main([*argv, "--store", f"sqlite:///{missing}"])
    err = capsys.readouterr().err
    assert code == 1 and f"no store at {missing}" in err
    assert list(tmp_path.iterdir()) == []


def test_diff_against_a_store_that_does_not_exist_fails_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "g.json"
    assert main(["compile", "examples/function_chaining.py", "-o", str(graph)]) == 0
    missing = tmp_path / "typo.db"
    code = main(["diff", str(graph), str(graph), "--store", f"sqlite:///{missing}"])
    assert code == 1 and "no store at" in capsys.readouterr().err
    assert not missing.exists()


def test_a_relative_store_that_does_not_exist_names_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["list", "--store", "sqlite:///durable.db"]) == 1
    assert f"relative to the working directory {tmp_path}" in capsys.readouterr().err


def test_start_creates_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.db"
    assert main(["start", "waits", "--id", "n1", "--store", f"sqlite:///{path}"]) == 0
    assert main(["status", "n1", "--store", f"sqlite:///{path}"]) == 0


def test_the_store_defaults_to_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DURABLEFLOW_STORE", f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["start", "waits", "--id", "e1"]) == 0
    assert (tmp_path / "env.db").exists() and not (tmp_path / "durable.db").exists()
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    assert [s["instance_id"] for s in json.loads(capsys.readouterr().out)] == ["e1"]


def test_the_store_flag_overrides_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DURABLEFLOW_STORE", f"sqlite:///{tmp_path / 'env.db'}")
    flag = f"sqlite:///{tmp_path / 'flag.db'}"
    assert main(["start", "waits", "--id", "f1", "--store", flag]) == 0
    assert (tmp_path / "flag.db").exists() and not (tmp_path / "env.db").exists()


def test_without_flag_or_environment_the_store_is_durable_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DURABLEFLOW_STORE", raising=False)
    assert main(["start", "waits", "--id", "d1"]) == 0
    assert (tmp_path / "durable.db").exists()


def test_open_store_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="the file does not exist"):
        open_store(f"sqlite:///{tmp_path / 'none.db'}", create=False)
    assert list(tmp_path.iterdir()) == []


def test_open_store_without_create_opens_an_existing_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'there.db'}"
    df.Client(url).start_new("waits", instance_id="w")
    store = open_store(url, create=False)
    try:
        assert store.get_instance("w") is not None
    finally:
        store.close()


def test_a_missing_store_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_store(f"sqlite:///{tmp_path / 'none.db'}", create=False)
