"""Fixtures shared by every test directory."""

from tests.runtime.pg import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]
