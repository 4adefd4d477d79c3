"""The dashboard's pages and JSON endpoints over HTTP: its files are served from the
package (nothing from the internet), and each instance is drawn on its compiled graph."""

from __future__ import annotations

import re

import httpx
import pytest

from durableflow.compiler.render import STATE_COLORS
from tests.runtime.http.served import BASE, wait_for_status


def test_the_list_page_loads_its_script_and_style_from_this_server(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="/static/dashboard.js"' in page.text
    assert 'href="/static/dashboard.css"' in page.text


@pytest.mark.parametrize("name", ["dashboard.js", "dashboard.css"])
def test_no_asset_refers_to_another_origin(http: httpx.Client, name: str) -> None:
    text = http.get(f"/static/{name}").text
    assert not re.search(r"https?://", text)


def test_an_unknown_static_file_is_404(http: httpx.Client) -> None:
    assert http.get("/static/../../etc/passwd").status_code == 404
    assert http.get("/static/nothing.js").status_code == 404


def test_the_instance_page_escapes_the_instance_id(http: httpx.Client) -> None:
    page = http.get('/instance/<img src=x onerror="alert(1)">').text
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_orchestrators_lists_the_app_s_names(http: httpx.Client) -> None:
    names = http.get("/dashboard/api/orchestrators").json()["orchestrators"]
    assert {"chain", "approval", "fails", "outside_subset"} <= set(names)


def test_a_completed_instance_is_drawn_with_its_nodes_coloured(http: httpx.Client) -> None:
    iid = http.post("/api/orchestrators/chain", json=1).json()["id"]
    wait_for_status(http, iid, "Completed")
    drawing = http.get(f"/dashboard/api/instances/{iid}/graph").json()
    assert drawing["name"] == "chain" and drawing["reason"] is None
    assert drawing["svg"].startswith("<svg")
    assert set(drawing["states"].values()) == {"completed"}
    assert STATE_COLORS["completed"][0] in drawing["svg"]


def test_a_waiting_instance_is_drawn_running_at_its_wait(http: httpx.Client) -> None:
    iid = http.post("/api/orchestrators/approval").json()["id"]
    wait_for_status(http, iid, "Running")
    states = http.get(f"/dashboard/api/instances/{iid}/graph").json()["states"]
    assert [n for n, s in states.items() if s == "running"] == ["approval/wait_event:approve#0"]
    assert "not_reached" in states.values()


def test_an_orchestrator_outside_the_subset_says_so_and_has_no_drawing(
    http: httpx.Client,
) -> None:
    iid = http.post("/api/orchestrators/outside_subset", json=[3, 1]).json()["id"]
    wait_for_status(http, iid, "Completed")
    drawing = http.get(f"/dashboard/api/instances/{iid}/graph").json()
    assert drawing["svg"] is None
    assert "outside the compiled subset" in drawing["reason"] and "DFC002" in drawing["reason"]
    history = http.get(f"{BASE}/instances/{iid}?showHistory=true").json()["historyEvents"]
    assert history[-1]["EventType"] == "ExecutionCompleted"


def test_the_graph_of_an_unknown_instance_is_404(http: httpx.Client) -> None:
    assert http.get("/dashboard/api/instances/nobody-here/graph").status_code == 404
