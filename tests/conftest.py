"""Fixtures shared by every test directory."""

from tests.runtime.pg import pg_fresh_url, pg_server, pg_shared_schema, pg_url

__all__ = ["pg_fresh_url", "pg_server", "pg_shared_schema", "pg_url"]
