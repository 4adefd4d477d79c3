"""API keys, the loopback rule, body limits and CORS, against `durable serve` subprocesses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.runtime.http.served import APP, BASE, REPO, Served, start_server

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(
        tmp_path_factory.mktemp("keyed"),
        "--max-body-bytes",
        "2048",
        env={"DURABLEFLOW_API_KEY": KEY},
    )
    yield server
    assert server.stop() == 0, server.output()


def test_an_api_call_without_the_key_is_401_saying_how_to_send_it(keyed: Served) -> None:
    response = httpx.get(f"{keyed.url}{BASE}/instances")
    assert response.status_code == 401
    assert "x-functions-key" in response.json()["message"]


def test_a_wrong_key_is_401(keyed: Served) -> None:
    response = httpx.get(f"{keyed.url}{BASE}/instances", headers={"x-functions-key": "nope"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/api/orchestrators/chain", f"{BASE}/orchestrators/chain"])
def test_a_start_without_the_key_is_401_and_starts_nothing(keyed: Served, path: str) -> None:
    assert httpx.post(keyed.url + path + "/unkeyed", json=1).status_code == 401
    got = httpx.get(f"{keyed.url}{BASE}/instances/unkeyed", headers={"x-api-key": KEY})
    assert got.status_code == 404


def test_the_key_in_the_header_is_accepted(keyed: Served) -> None:
    response = httpx.get(f"{keyed.url}{BASE}/instances", headers={"x-functions-key": KEY})
    assert response.status_code == 200


def test_the_key_as_the_code_parameter_is_accepted_and_carried_in_the_links(
    keyed: Served,
) -> None:
    response = httpx.post(f"{keyed.url}/api/orchestrators/chain?code={KEY}", json=1)
    assert response.status_code == 202
    status_url = response.json()["statusQueryGetUri"]
    assert status_url.endswith(f"?code={KEY}")
    assert httpx.get(status_url).status_code in (200, 202)


def test_a_key_sent_as_a_header_is_never_copied_into_links(keyed: Served) -> None:
    response = httpx.post(
        f"{keyed.url}/api/orchestrators/chain", json=1, headers={"x-functions-key": KEY}
    )
    assert KEY not in response.text and KEY not in response.headers["location"]


@pytest.mark.parametrize("path", ["/", "/instance/x", "/static/dashboard.js", "/openapi.json"])
def test_pages_without_data_need_no_key(keyed: Served, path: str) -> None:
    assert httpx.get(keyed.url + path).status_code == 200


def test_dashboard_data_needs_the_key(keyed: Served) -> None:
    assert httpx.get(f"{keyed.url}/dashboard/api/orchestrators").status_code == 401


def test_a_body_over_the_limit_is_413_and_starts_nothing(keyed: Served) -> None:
    response = httpx.post(
        f"{keyed.url}/api/orchestrators/chain/too-big",
        content=b'"' + b"x" * 4096 + b'"',
        headers={"x-functions-key": KEY, "content-type": "application/json"},
    )
    assert response.status_code == 413 and "--max-body-bytes" in response.json()["message"]
    got = httpx.get(f"{keyed.url}{BASE}/instances/too-big", headers={"x-functions-key": KEY})
    assert got.status_code == 404


def test_a_streamed_body_over_the_limit_is_413(keyed: Served) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'"'
        for _ in range(8):
            yield b"y" * 512
        yield b'"'

    response = httpx.post(
        f"{keyed.url}/api/orchestrators/chain",
        content=chunks(),
        headers={"x-functions-key": KEY, "content-type": "application/json"},
    )
    assert response.status_code == 413


def test_no_cors_headers_unless_asked_for(served: Served) -> None:
    response = httpx.options(
        f"{served.url}{BASE}/instances",
        headers={"origin": "http://elsewhere.test", "access-control-request-method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_cors_origins_given_are_allowed(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--cors-origin", "http://app.test")
    try:
        response = httpx.get(f"{server.url}{BASE}/instances", headers={"origin": "http://app.test"})
        assert response.headers["access-control-allow-origin"] == "http://app.test"
        other = httpx.get(f"{server.url}{BASE}/instances", headers={"origin": "http://evil.test"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        assert server.stop() == 0


def test_serving_off_loopback_without_a_key_is_refused_with_how_to_set_one(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "durableflow.cli",
            "serve",
            APP,
            "--host",
            "0.0.0.0",
            "--store",
            f"sqlite:///{tmp_path / 'x.db'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "--api-key" in result.stderr and "DURABLEFLOW_API_KEY" in result.stderr
    assert not (tmp_path / "x.db").exists()
