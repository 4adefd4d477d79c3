"""``durable db upgrade``: creates and migrates a store, and fails clearly when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from durableflow.cli import main
from durableflow.runtime.store import postgres_sql, sqlite_sql


def test_upgrade_creates_a_sqlite_store_and_applies_every_migration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["db", "upgrade", "--store", url]) == 0
    names = ", ".join(name for name, _ in sqlite_sql.MIGRATIONS)
    assert capsys.readouterr().out.strip() == f"{url}: applied {names}; now at 0004_workers"
    assert (tmp_path / "new.db").exists()


def test_upgrade_of_an_up_to_date_store_applies_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    main(["db", "upgrade", "--store", url])
    capsys.readouterr()
    assert main(["db", "upgrade", "--store", url]) == 0
    assert capsys.readouterr().out.strip() == f"{url}: up to date at 0004_workers"


@pytest.mark.postgres
def test_upgrade_creates_and_migrates_a_postgres_schema(
    pg_fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    latest = postgres_sql.MIGRATIONS[-1][0]
    assert main(["db", "upgrade", "--store", pg_fresh_url]) == 0
    assert capsys.readouterr().out.strip().endswith(f"now at {latest}")
    assert main(["db", "upgrade", "--store", pg_fresh_url]) == 0
    assert capsys.readouterr().out.strip() == f"{pg_fresh_url}: up to date at {latest}"


def test_upgrade_of_an_unreachable_server_fails_with_the_password_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://app:hunter2@127.0.0.1:1/db?connect_timeout=2"
    assert main(["db", "upgrade", "--store", url]) == 1
    err = capsys.readouterr().err
    assert "cannot use the PostgreSQL server at postgresql://app:***@127.0.0.1:1/db" in err
    assert "hunter2" not in err


def test_upgrade_of_an_unknown_url_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--store", "redis://localhost"]) == 1
    assert "unknown store URL" in capsys.readouterr().err
