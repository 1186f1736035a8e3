"""The page as it loads, and as someone with only a keyboard or a screen reader meets it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import BrowserWatch, PageTarget
from e2e.servers import serve_reference
from e2e.ui import GREETING, MonitorPage


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_page_loads_without_errors(
    monitor: MonitorPage, watch: BrowserWatch, target: PageTarget
) -> None:
    page = monitor.page
    page.wait_for_load_state("networkidle")
    expect(page).to_have_title("RAM Monitor Stream")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("h1")).not_to_be_empty()
    expect(monitor.start).to_have_text("Start Monitoring RAM")
    expect(monitor.start).to_be_enabled()
    expect(monitor.stop).to_be_disabled()
    expect(monitor.status).to_have_attribute("data-status", "idle")
    expect(monitor.status).to_have_text(re.compile("idle", re.IGNORECASE))
    expect(monitor.lines).to_have_count(0)

    assert watch.console_errors == []
    assert watch.page_errors == []
    assert watch.failed_requests == []
    assert watch.error_responses == []
    # Everything, Vue included, comes from the page's own origin: the page works offline.
    fetched = {origin(r.url) for r in watch.requests if not r.url.startswith(("data:", "blob:"))}
    assert fetched == {origin(target.base_url)}
    scripts = [r.url for r in watch.requests if r.resource_type == "script"]
    assert any("vue" in url.lower() for url in scripts), f"no Vue script loaded: {scripts}"
    assert any(urlsplit(r.url).path == "/api/config" for r in watch.requests)
    assert watch.stream_requests() == [], "the page opened the stream before Start was pressed"


def test_regions_are_announced(monitor: MonitorPage) -> None:
    page = monitor.page
    log = page.get_by_role("log")
    expect(log).to_have_count(1)
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_have_attribute("data-testid", "log")
    expect(page.get_by_role("status")).to_have_attribute("data-testid", "status")
    expect(page.get_by_role("button", name="Start Monitoring RAM")).to_have_count(1)
    expect(page.get_by_role("button", name="Stop")).to_have_count(1)


COMPLETED_TWICE = """() => {
  let runs = 0, previous = null;
  for (const entry of window.__e2eTimeline) {
    if (entry.status === 'completed' && previous !== 'completed') runs += 1;
    previous = entry.status;
  }
  return runs >= 2;
}"""


def focus_by_tab(monitor: MonitorPage, name: str, presses: int = 15) -> None:
    """Press Tab until the button with ``name`` has the focus, as a keyboard user would."""
    page = monitor.page
    button = page.get_by_role("button", name=name)
    for _ in range(presses):
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{name!r} never got the focus in {presses} presses of Tab")


def test_keyboard_only_run(monitor: MonitorPage, target: PageTarget) -> None:
    config = target.config
    focus_by_tab(monitor, "Start Monitoring RAM")
    monitor.page.keyboard.press("Enter")
    monitor.expect_completed(config.run_seconds)
    expect(monitor.lines).to_have_count(config.total_messages)

    # Again, with Space this time: focus may have left the button while it was disabled.
    monitor.page.evaluate("document.activeElement && document.activeElement.blur()")
    focus_by_tab(monitor, "Start Monitoring RAM")
    monitor.page.keyboard.press(" ")
    monitor.page.wait_for_function(
        COMPLETED_TWICE,
        timeout=config.run_seconds * 1000,
    )
    assert monitor.statuses_seen().count("completed") == 2
    expect(monitor.lines).to_have_count(config.total_messages)
    expect(monitor.lines.first).to_have_text(GREETING)


@pytest.mark.owned_server
def test_missing_vue_says_how_to_install_it(
    page: Page, tmp_path: Path, static_dir: Path | None
) -> None:
    # A fresh clone before `npm ci`: the page must still answer and tell the person what to do.
    with serve_reference(interval=0.05, static_dir=static_dir, vue_dir=tmp_path) as served:
        page.goto(served.base_url + "/")
        expect(page).to_have_title("RAM Monitor Stream")
        notice = page.get_by_role("alert").filter(has_text="npm ci")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Vue")
