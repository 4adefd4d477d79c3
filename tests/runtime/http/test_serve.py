"""`durable serve` as a process (signals, restarts) and `create_app` mounted in a service."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

import durableflow as df
from durableflow.runtime.http import create_app
from tests.runtime.http.apps import app as test_app
from tests.runtime.http.served import BASE, serve_in_thread, start_server, wait_for_status


def wait_for_event(http: httpx.Client, iid: str, event: str, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        body = http.get(f"{BASE}/instances/{iid}?showHistory=true").json()
        if any(e["EventType"] == event for e in body.get("historyEvents", [])):
            return
        time.sleep(0.02)
    raise AssertionError(f"no {event} in the history of {iid}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_cleanly_and_a_restart_finishes_the_work(
    tmp_path: Path, sig: signal.Signals
) -> None:
    first = start_server(tmp_path, "--lease", "2")
    with first.client() as http:
        iid = http.post("/api/orchestrators/slow_chain", json=1).json()["id"]
        wait_for_event(http, iid, "TaskScheduled")  # its first activity is running now
    first.process.send_signal(sig)
    assert first.process.wait(60) == 0, first.output()
    assert "durable serve: stopped" in first.output()
    # The worker finished what it had in flight (it may have carried the chain to its
    # end); whatever it had not started is still queued in the store.
    state = df.Client(first.store).get_status(iid)
    assert state is not None and state.runtime_status is not df.RuntimeStatus.FAILED
    second = start_server(tmp_path, "--lease", "2", store=first.store)
    try:
        with second.client() as http:
            assert wait_for_status(http, iid, "Completed")["output"] == 4
            events = http.get(f"{BASE}/instances/{iid}?showHistory=true").json()
            done = [e for e in events["historyEvents"] if e["EventType"] == "TaskCompleted"]
            assert [e["TaskScheduledId"] for e in done] == [0, 1]
    finally:
        assert second.stop() == 0


def test_serve_with_retain_purges_instances_that_ended_longer_ago(tmp_path: Path) -> None:
    served = start_server(tmp_path, "--retain", "1s")
    try:
        with served.client() as http:
            iid = http.post("/api/orchestrators/chain", json=1).json()["id"]
            wait_for_status(http, iid, "Completed")
            end = time.monotonic() + 30
            while http.get(f"{BASE}/instances/{iid}").status_code != 404:
                assert time.monotonic() < end, f"{iid} was not purged:\n{served.output()}"
                time.sleep(0.05)
    finally:
        assert served.stop() == 0


def test_the_app_mounts_in_another_starlette_service(tmp_path: Path) -> None:
    with df.Runtime(test_app, f"sqlite:///{tmp_path / 'mounted.db'}") as rt:
        service = Starlette(routes=[Mount("/durable", app=create_app(rt))])
        with serve_in_thread(service) as url, httpx.Client(base_url=url) as http:
            response = http.post("/durable/api/orchestrators/chain", json=2)
            assert response.status_code == 202
            iid = response.json()["id"]
            location = response.headers["location"]
            assert location == f"{url}/durable{BASE}/instances/{iid}"
            rt.client.wait_for_completion(iid, timeout=30)
            assert http.get(location).json()["output"] == 8
            page = http.get("/durable/").text
            assert 'data-root="/durable"' in page and "/durable/static/dashboard.js" in page
            assert http.get("/durable/static/dashboard.js").status_code == 200


def test_create_app_with_manage_runtime_starts_and_stops_the_worker(tmp_path: Path) -> None:
    rt = df.Runtime(test_app, f"sqlite:///{tmp_path / 'managed.db'}")
    with serve_in_thread(create_app(rt, manage_runtime=True)) as url:
        answer = httpx.post(
            f"{url}/api/orchestrators/chain?timeout=30&pollingInterval=0.02", json=1
        )
        assert answer.status_code == 200 and answer.json() == 4
    assert rt.worker.is_idle()


def test_graphs_from_a_folder_are_drawn_without_compiling_the_source(tmp_path: Path) -> None:
    from durableflow.compiler import compile_file

    folder = tmp_path / "graphs"
    folder.mkdir()
    (graph,) = compile_file(Path(__file__).with_name("apps.py"), "chain")
    (folder / "chain.graph.json").write_text(graph.to_json())
    server = start_server(tmp_path, "--graphs", str(folder), "--no-compile")
    try:
        with server.client() as http:
            iid = http.post("/api/orchestrators/chain", json=1).json()["id"]
            assert wait_for_status(http, iid, "Completed")["output"] == 4
            drawing = http.get(f"/dashboard/api/instances/{iid}/graph").json()
            assert drawing["svg"].startswith("<svg") and drawing["reason"] is None
            other = http.post("/api/orchestrators/approval").json()["id"]
            assert http.get(f"/dashboard/api/instances/{other}/graph").json()["svg"] is None
    finally:
        assert server.stop() == 0


def test_serve_has_help_naming_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from durableflow.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    for option in ["--store", "--host", "--port", "--graphs", "--api-key", "--max-body-bytes"]:
        assert option in out
    for option in ["--lease", "--retain", "--activity-timeout", "--drain-timeout"]:
        assert option in out
