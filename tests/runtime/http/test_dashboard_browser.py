"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium (by path;
Playwright's own browser download is never used) against `durable serve`. Screenshots go
to the test's temporary folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durableflow.compiler.render import STATE_COLORS
from tests.runtime.http.served import Served

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make install adds it)"
)
TIMEOUT_MS = 30_000
sync_api.expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def node_fills(page: Any) -> list[str]:
    """The fill colour of every node shape in the drawn graph, the legend's left out."""
    fills: list[str] = page.eval_on_selector_all(
        "#graph g.node",
        "nodes => nodes"
        ".filter(n => !(n.querySelector('title')?.textContent || '').startsWith('legend_'))"
        ".map(n => (n.querySelector('polygon, ellipse, path') || n).getAttribute('fill'))",
    )
    return fills


def start_from_the_form(page: Any, name: str, body: str, iid: str = "") -> str:
    page.select_option("#start-name", name)
    page.fill("#start-id", iid)
    page.fill("#start-input", body)
    result = page.locator("#start-result")
    before = result.inner_text()
    page.click("#start-button")
    # The previous start's "started ..." must not pass for this one's.
    sync_api.expect(result).not_to_have_text(before)
    sync_api.expect(result).to_contain_text(f"started {iid}" if iid else "started ")
    started: str = result.inner_text().removeprefix("started ").strip()
    return started


def test_start_watch_complete_open_and_see_the_coloured_graph(
    page: Any, served: Served, tmp_path: Path
) -> None:
    expect = sync_api.expect
    page.goto(served.url + "/")
    expect(page.locator('#start-name option:text-is("chain")')).to_have_count(1)
    iid = start_from_the_form(page, "chain", "3")
    row = page.locator(f'tr[data-instance="{iid}"]')
    expect(row.locator(".status")).to_have_text("Completed")
    page.screenshot(path=str(tmp_path / "1-list.png"), full_page=True)

    row.locator("a").click()
    expect(page.locator("#inst-status")).to_have_text("Completed")
    expect(page.locator("#list-page")).to_be_hidden()
    expect(page.locator("#inst-output")).to_have_text("12")
    expect(page.locator("#graph svg")).to_have_count(1)
    completed = STATE_COLORS["completed"][0]
    fills = node_fills(page)
    assert fills and all(f == completed for f in fills), fills
    expect(page.locator("#history tbody tr")).to_have_count(4)
    expect(page.locator("#history tbody tr").first).to_contain_text("+0.000 s")
    page.screenshot(path=str(tmp_path / "2-completed.png"), full_page=True)


def test_raise_an_event_on_a_waiting_instance_and_watch_it_move_on(
    page: Any, served: Served, tmp_path: Path
) -> None:
    expect = sync_api.expect
    page.goto(served.url + "/")
    expect(page.locator('#start-name option:text-is("approval")')).to_have_count(1)
    iid = start_from_the_form(page, "approval", "null", f"browser-{uuid.uuid4().hex[:8]}")
    page.goto(f"{served.url}/instance/{iid}")
    expect(page.locator("#inst-status")).to_have_text("Running")
    expect(page.locator("#inst-custom")).to_contain_text("waiting for approve")
    running, completed = STATE_COLORS["running"][0], STATE_COLORS["completed"][0]
    page.wait_for_function(
        "c => [...document.querySelectorAll('#graph g.node polygon')]"
        ".some(p => p.getAttribute('fill') === c)",
        arg=running,
    )
    page.screenshot(path=str(tmp_path / "3-waiting.png"), full_page=True)

    page.fill("#event-name", "approve")
    page.fill("#event-data", '"yes"')
    page.click("#event-button")
    expect(page.locator("#action-result")).to_have_text("event sent")
    expect(page.locator("#inst-status")).to_have_text("Completed")
    expect(page.locator("#inst-output")).to_contain_text('"answer": "yes"')
    page.wait_for_function(
        "c => { const f = [...document.querySelectorAll('#graph g.node')]"
        ".filter(n => !(n.querySelector('title')?.textContent || '').startsWith('legend_'))"
        ".map(n => (n.querySelector('polygon, ellipse, path') || n).getAttribute('fill'));"
        " return f.length > 0 && f.every(x => x === c); }",
        arg=completed,
    )
    expect(page.locator("#history tbody")).to_contain_text("EventRaised")
    page.screenshot(path=str(tmp_path / "4-moved-on.png"), full_page=True)


def test_terminate_from_the_instance_page(page: Any, served: Served) -> None:
    expect = sync_api.expect
    page.goto(served.url + "/")
    expect(page.locator('#start-name option:text-is("approval")')).to_have_count(1)
    iid = start_from_the_form(page, "approval", "null")
    page.goto(f"{served.url}/instance/{iid}")
    expect(page.locator("#inst-status")).to_have_text("Running")
    page.click("button[data-action=terminate]")
    expect(page.locator("#inst-status")).to_have_text("Terminated")
    page.click("button[data-action=purge]")
    expect(page.locator("#inst-status")).to_have_text("not found")


def test_filter_and_page_the_instance_list(page: Any, served: Served) -> None:
    expect = sync_api.expect
    tag = f"pager-{uuid.uuid4().hex[:6]}"
    page.goto(served.url + "/")
    expect(page.locator('#start-name option:text-is("approval")')).to_have_count(1)
    first = start_from_the_form(page, "approval", "null", f"{tag}-a")
    second = start_from_the_form(page, "chain", "1", f"{tag}-b")
    page.fill("#filter-id", tag)
    page.fill("#filter-top", "1")
    rows = page.locator("#instances tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance", second)
    page.click("#page-older")
    expect(rows.first).to_have_attribute("data-instance", first)
    expect(page.locator("#page-number")).to_have_text("page 2")
    page.click("#page-newer")
    expect(rows.first).to_have_attribute("data-instance", second)
    page.fill("#filter-top", "20")
    page.select_option("#filter-status", "Running")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance", first)
    page.select_option("#filter-status", "")
    page.fill("#filter-name", "cha")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance", second)
