"""A PostgreSQL server for tests: ``DURABLEFLOW_TEST_PG`` names it; each test gets a schema.

Without the variable, or with a server that cannot be reached, PostgreSQL tests are skipped,
except under ``CI=true``, where they fail: CI must not pass by skipping them. Every schema a
test run makes is named ``dft_<pid>_<random>_<n>`` (one prefix per process, so parallel
xdist workers never clash), and the session drops them all at the end.

``pg_url`` is one schema per process, emptied before each test (DELETE: a test leaves a
few rows, and TRUNCATE's new files cost more than deleting them); creating and migrating a
schema per test would cost ten times as much. ``pg_fresh_url`` is a schema of
the test's own, not yet created, for tests of schema creation and migrations.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

ENV = "DURABLEFLOW_TEST_PG"
PREFIX = f"dft_{os.getpid()}_{secrets.token_hex(3)}"
_numbers = itertools.count()


def server_url() -> str:
    """The test server's URL, after checking it answers; skips (fails under CI) if not."""
    url = os.environ.get(ENV, "")
    ci = os.environ.get("CI", "").lower() == "true"
    if not url:
        reason = f"{ENV} is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        if ci:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        reason = f"PostgreSQL at {ENV} is unreachable: {exc}"
        if ci:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return url


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``?schema=`` (or ``&schema=``) set."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def new_schema_name() -> str:
    """A schema name no other test or test process uses."""
    return f"{PREFIX}_{next(_numbers)}"


def drop_schemas(url: str, pattern: str) -> None:
    """Drop every schema whose name is LIKE ``pattern``."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (pattern,)
            )
        ]
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The test server's URL (without a schema); drops this process's schemas at the end."""
    url = server_url()
    yield url
    drop_schemas(url, PREFIX.replace("_", r"\_") + "%")


TABLES = ("instances", "history", "messages", "activities", "workers")


@pytest.fixture(scope="session")
def pg_shared_schema(pg_server: str) -> str:
    """This process's schema for ``pg_url`` (created and migrated once)."""
    from durableflow.runtime.store import open_store

    url = with_schema(pg_server, new_schema_name())
    open_store(url).close()
    return url


def empty_schema(url: str) -> None:
    """Delete every row of the store at ``url`` (its schema and migrations stay)."""
    import psycopg
    from psycopg import sql

    base, _, schema = url.rpartition("schema=")
    with psycopg.connect(base.rstrip("?&"), autocommit=True) as conn, conn.transaction():
        for table in TABLES:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table)))


@pytest.fixture
def pg_url(pg_shared_schema: str) -> str:
    """A store URL on this process's schema, emptied for this test."""
    empty_schema(pg_shared_schema)
    return pg_shared_schema


@pytest.fixture
def pg_fresh_url(pg_server: str) -> str:
    """A store URL on a schema no one has created yet (dropped at the end of the session)."""
    return with_schema(pg_server, new_schema_name())


def wait_until_waiting_on_a_lock(watcher: Any, pid: int) -> None:
    """Return once server backend ``pid`` waits on a lock, as ``watcher`` (a connection of
    its own) sees it in ``pg_stat_activity``; fails the test after 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited on a lock")
