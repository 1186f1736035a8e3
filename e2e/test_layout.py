"""The page's layout at a phone's width and a desktop's: chart labels keep their shape, the chart
shows the latest value and a time axis, the status never moves the page, the empty log says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.harness import PageTarget
from e2e.ui import MonitorPage

WIDTHS = {"phone": 375, "desktop": 1440}
HEIGHT = 800


def label_shape(monitor: MonitorPage) -> float:
    """Width / height of the rendered "0%" tick label: the same at any width unless stretched."""
    box = monitor.chart.locator("text.tick", has_text=re.compile(r"^0%$")).bounding_box()
    assert box is not None
    return box["width"] / box["height"]


def test_chart_labels_keep_their_shape_at_any_width(monitor: MonitorPage) -> None:
    shapes = {}
    for name, width in WIDTHS.items():
        monitor.page.set_viewport_size({"width": width, "height": HEIGHT})
        monitor.page.wait_for_function(
            "w => Math.abs(document.querySelector('[data-testid=chart]').viewBox.baseVal.width"
            " - document.querySelector('[data-testid=chart]').getBoundingClientRect().width) < 1",
            arg=width,
        )
        shapes[name] = label_shape(monitor)
    assert shapes["phone"] == pytest.approx(shapes["desktop"], rel=0.1), shapes
    # and not squashed: a "0%" is wider than tall in any font
    assert 0.8 < shapes["phone"] < 3, shapes


@pytest.mark.parametrize("width", list(WIDTHS.values()), ids=list(WIDTHS))
def test_latest_value_time_axis_and_a_steady_status(
    monitor: MonitorPage, target: PageTarget, width: int
) -> None:
    page = monitor.page
    page.set_viewport_size({"width": width, "height": HEIGHT})
    latest = page.get_by_test_id("latest")
    empty = page.get_by_test_id("log-empty")
    expect(latest).to_contain_text("—")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("press Start Monitoring RAM")
    ticks = page.get_by_test_id("x-tick")
    assert ticks.count() >= 3
    expect(ticks.first).to_contain_text("0 s")

    heights: set[float] = set()
    tops: set[float] = set()

    def record(height: float, top: float) -> None:
        heights.add(height)
        tops.add(top)

    page.expose_function("__e2eStatusBox", record)
    page.evaluate(
        """() => {
          const el = document.querySelector('[data-testid=status]');
          const chart = document.querySelector('[data-testid=chart]');
          const report = () => window.__e2eStatusBox(
            el.getBoundingClientRect().height, chart.getBoundingClientRect().top);
          report();
          new MutationObserver(report).observe(el, {subtree: true, childList: true, characterData: true});
        }"""
    )
    monitor.start.click()
    expect(empty).to_be_hidden()  # gone with the first message
    monitor.expect_completed(target.config.run_seconds)
    config = target.config
    expect(monitor.points).to_have_count(config.samples)
    last_sample = [t for t in monitor.line_texts() if "RAM usage:" in t][-1]
    percent = re.search(r"RAM usage: ([0-9.]+)%", last_sample)
    assert percent is not None
    expect(latest).to_have_text(re.compile(rf"latest\s+{re.escape(percent[1])}%"))
    assert len(heights) == 1, f"the status changed height while its text changed: {heights}"
    assert len(tops) == 1, f"the chart moved while the status changed: {tops}"
    # the points sit on the time axis: the last one no further right than the axis end
    xs = [float(p.get_attribute("cx") or "nan") for p in monitor.points.all()]
    end = float(
        page.evaluate("document.querySelector('[data-testid=chart]').viewBox.baseVal.width")
    )
    assert xs == sorted(xs)
    assert xs[-1] <= end
