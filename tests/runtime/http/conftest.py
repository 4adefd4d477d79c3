"""A `durable serve` subprocess shared by the HTTP tests (one per test process)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.runtime.http.served import Served, start_server


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("serve"))
    yield server
    code = server.stop()
    assert code == 0, server.output()


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with served.client() as client:
        yield client
