"""PostgreSQL for tests: the server named by ``DURABLEFLOW_TEST_PG``, one schema per test.

Without the variable, PostgreSQL tests skip; under ``CI=true`` they fail instead, and so
does a server that cannot be reached, so that CI never passes by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

PG_ENV = "DURABLEFLOW_TEST_PG"


def pg_server_url() -> str:
    """The server's URL, or skip (fail under CI) when there is none or it is unreachable."""
    url = os.environ.get(PG_ENV)
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not url:
        if in_ci:
            pytest.fail(f"{PG_ENV} is not set, and CI must run the PostgreSQL tests")
        pytest.skip(f"{PG_ENV} is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    try:
        import psycopg

        with psycopg.connect(without_schema(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as err:
        if in_ci:
            pytest.fail(f"PostgreSQL at {PG_ENV} is unreachable: {err}")
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {err}")
    return url


def without_schema(url: str) -> str:
    """``url`` without its ``schema`` query parameter (what libpq itself accepts)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_schema(url: str, schema: str) -> str:
    """``url`` naming ``schema`` (the store's ``?schema=`` parameter)."""
    parts = urlsplit(without_schema(url))
    query = [*parse_qsl(parts.query), ("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_host(url: str, host: str, port: int) -> str:
    """``url`` pointing at ``host:port`` instead (user, database and parameters kept)."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@{host}:{port}" if user else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def pg_schema(label: str) -> Iterator[str]:
    """A store URL on a fresh schema of the test server, dropped afterwards."""
    server = pg_server_url()
    import psycopg

    schema = f"df_{label}_{uuid.uuid4().hex[:10]}"
    try:
        yield with_schema(server, schema)
    finally:
        with psycopg.connect(without_schema(server), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
