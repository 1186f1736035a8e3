"""The page as it loads, and as someone with only a keyboard or a screen reader meets it."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import BrowserWatch, PageTarget
from e2e.servers import serve_reference
from e2e.ui import GREETING, SAMPLE_LINE, MonitorPage


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


# --- the page's layout at a phone's and a desktop's width (issue 14) -----------------------------

PHONE, LARGE_PHONE, DESKTOP = 375, 430, 1440
WIDTHS = pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["phone", "desktop"])

# Runs before the page's scripts: at every DOM change, where the status and the chart are.
LAYOUT_SCRIPT = """
(() => {
  const boxes = [];
  window.__e2eLayout = boxes;
  const snap = () => {
    const status = document.querySelector('[data-testid="status"]');
    const chart = document.querySelector('[data-testid="chart"]');
    if (!status || !chart) return;
    const s = status.getBoundingClientRect();
    boxes.push({
      status: status.getAttribute('data-status'), text: status.textContent.trim(),
      height: s.height, top: s.top + window.scrollY, chartTop: chart.getBoundingClientRect().top + window.scrollY,
    });
  };
  new MutationObserver(snap).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
})();
"""


def open_at(page: Page, width: int) -> MonitorPage:
    page.set_viewport_size({"width": width, "height": 900})
    page.add_init_script(LAYOUT_SCRIPT)
    ui = MonitorPage(page)
    ui.open()
    return ui


def label_shape(page: Page) -> float:
    """Width / height of the chart's first label (its y maximum) as drawn, in CSS pixels."""
    box = page.get_by_test_id("chart").locator("text").first.bounding_box()
    assert box is not None
    assert box["height"] > 0
    return box["width"] / box["height"]


def test_chart_labels_keep_their_shape_at_any_width(page: Page) -> None:
    open_at(page, PHONE)
    page.wait_for_timeout(200)  # the ResizeObserver's first callback
    phone = label_shape(page)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.wait_for_timeout(200)
    desktop = label_shape(page)
    # A chart stretched with preserveAspectRatio="none" squashes it ~0.5x on a phone, ~1.3x wide.
    assert abs(phone - desktop) / desktop < 0.05, (
        f"label shape {phone:.2f} (phone) vs {desktop:.2f}"
    )


@WIDTHS
def test_time_axis_has_ticks_in_seconds(page: Page, width: int) -> None:
    open_at(page, width)
    ticks = page.get_by_test_id("chart-x-tick")
    expect(ticks.first).to_be_visible()
    labels = [t.strip() for t in ticks.all_text_contents()]
    assert 3 <= len(labels) <= 7, labels
    assert labels[0] == "0 s", labels
    assert all(re.fullmatch(r"\d+(\.\d+)? s", t) for t in labels), labels
    chart = page.get_by_test_id("chart").bounding_box()
    assert chart is not None
    lefts = []
    for tick in ticks.all():
        box = tick.bounding_box()
        assert box is not None
        assert chart["x"] <= box["x"]
        assert box["x"] + box["width"] <= chart["x"] + chart["width"] + 1
        lefts.append(box["x"])
    assert lefts == sorted(set(lefts)), f"ticks not strictly left to right: {lefts}"
    # Labels far enough apart not to touch.
    boxes = [t.bounding_box() for t in ticks.all()]
    for before, after in itertools.pairwise(boxes):
        assert before is not None
        assert after is not None
        assert before["x"] + before["width"] < after["x"], "time axis labels overlap"


@pytest.mark.parametrize(
    "width", [PHONE, LARGE_PHONE, DESKTOP], ids=["phone", "large-phone", "desktop"]
)
def test_status_changes_do_not_move_the_page(page: Page, width: int, target: PageTarget) -> None:
    ui = open_at(page, width)
    ui.start.click()
    ui.expect_completed(target.config.run_seconds)
    boxes = page.evaluate("window.__e2eLayout")
    seen = {b["status"] for b in boxes}
    assert {"idle", "streaming", "completed"} <= seen, seen
    heights = {round(b["height"], 1) for b in boxes}
    tops = {round(b["chartTop"], 1) for b in boxes}
    status_tops = {round(b["top"], 1) for b in boxes}
    assert len(heights) == 1, f"the status changed height: {sorted(heights)}"
    assert len(status_tops) == 1, f"the status moved: {sorted(status_tops)}"
    assert len(tops) == 1, f"the chart jumped as the status changed: {sorted(tops)}"


@WIDTHS
def test_empty_log_says_what_to_do(page: Page, width: int, target: PageTarget) -> None:
    ui = open_at(page, width)
    placeholder = page.get_by_test_id("log-empty")
    expect(placeholder).to_be_visible()
    expect(placeholder).to_have_text("No messages yet: press Start Monitoring RAM")
    ui.start.click()
    expect(ui.lines.first).to_be_visible()
    expect(placeholder).to_have_count(0)
    ui.expect_completed(target.config.run_seconds)
    expect(placeholder).to_have_count(0)


@WIDTHS
def test_latest_value_is_the_last_samples(page: Page, width: int, target: PageTarget) -> None:
    ui = open_at(page, width)
    latest = page.get_by_test_id("chart-latest")
    expect(latest).to_be_visible()
    expect(latest).to_have_attribute("data-value", "")
    ui.start.click()
    ui.expect_completed(target.config.run_seconds)
    samples = [m for m in map(SAMPLE_LINE.match, ui.line_texts()) if m]
    assert samples, "no sample lines"
    value = samples[-1]["percent"]
    expect(latest).to_have_attribute("data-value", value)
    expect(latest).to_contain_text(f"{value} %")
