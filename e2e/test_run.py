"""A run as a person sees it: Start, lines arriving, the chart, completion, and nothing after."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import RECONNECT_WAIT_S, BrowserWatch, PageTarget
from e2e.ui import GREETING, MonitorPage, check_sample


def assert_well_formed_run(texts: list[str], target: PageTarget) -> None:
    config = target.config
    assert len(texts) == config.total_messages
    assert texts[0] == GREETING
    assert texts[-1] == config.sentinel
    problems = [why for why in map(check_sample, texts[1:-1]) if why]
    assert problems == []


def test_full_run(monitor: MonitorPage, target: PageTarget, output_path: str) -> None:
    config = target.config
    if target.served is not None:
        # Our reference at its defaults: the 22 messages, 20 of them samples.
        assert (config.samples, config.total_messages) == (20, 22)
    monitor.start.click()
    monitor.expect_completed(config.run_seconds)
    expect(monitor.status).to_have_text(re.compile("complete", re.IGNORECASE))
    expect(monitor.lines).to_have_count(config.total_messages)
    assert_well_formed_run(monitor.line_texts(), target)
    expect(monitor.start).to_be_enabled()
    expect(monitor.stop).to_be_disabled()
    expect(monitor.points).to_have_count(config.samples)
    xs = [float(p.get_attribute("cx") or "nan") for p in monitor.points.all()]
    assert xs == sorted(set(xs)), f"chart points not strictly left to right: {xs}"

    # The way there, as the page's own DOM updates recorded it.
    seen = monitor.statuses_seen()
    assert [s for s in seen if s not in (None, "connecting")] == ["idle", "streaming", "completed"]
    timeline = monitor.timeline()
    busy = [snap for snap in timeline if snap.status in ("connecting", "streaming")]
    assert busy, "the status never said connecting or streaming"
    assert all(snap.start_disabled for snap in busy), "Start was enabled mid-run"
    counts = [snap.lines for snap in timeline]
    assert counts == sorted(counts), f"lines went away during a run: {counts}"
    streaming_counts = {snap.lines for snap in timeline if snap.status == "streaming"}
    assert any(0 < n < config.total_messages for n in streaming_counts), (
        "no line was shown while the status said streaming"
    )

    # The log follows the newest line when it overflows.
    scroll = monitor.scroll_state()
    if scroll["height"] > scroll["client"] + 1:
        assert scroll["top"] + scroll["client"] >= scroll["height"] - 2, scroll

    shot = Path(output_path) / "completed-run.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    monitor.page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_reconnect_after_completion(
    monitor: MonitorPage, target: PageTarget, watch: BrowserWatch
) -> None:
    config = target.config
    monitor.start.click()
    monitor.wait_for_run_end(config.run_seconds)
    monitor.page.wait_for_timeout(RECONNECT_WAIT_S * 1000)
    requested = [r.url for r in watch.stream_requests()]
    assert len(requested) == 1, f"the browser asked for the stream again: {requested}"
    expect(monitor.status).to_have_attribute("data-status", "completed")
    if target.traffic is not None:
        streams = target.traffic.streams()
        assert len(streams) == 1, f"the server saw {len(streams)} stream requests"
        assert streams[0].status == 200
        assert streams[0].completed


def test_start_again_clears_the_log(
    monitor: MonitorPage, target: PageTarget, watch: BrowserWatch
) -> None:
    config = target.config
    monitor.start.click()
    monitor.expect_completed(config.run_seconds)
    first_run_end = len(monitor.timeline())

    monitor.start.click()
    monitor.expect_completed(config.run_seconds)
    second_run = monitor.timeline()[first_run_end:]
    assert second_run
    assert second_run[-1].status == "completed"
    assert min(snap.lines for snap in second_run) == 0, "the log was not cleared on Start"
    expect(monitor.lines).to_have_count(config.total_messages)
    assert_well_formed_run(monitor.line_texts(), target)
    expect(monitor.points).to_have_count(config.samples)
    assert len(watch.stream_requests()) == 2
    if target.traffic is not None:
        streams = target.traffic.streams()
        assert len(streams) == 2
        # A new run, not a resume of the old one.
        assert all("last-event-id" not in s.headers for s in streams)
        assert all(s.completed for s in streams)


def test_lines_arrive_progressively(
    make_target: Callable[..., PageTarget], page: Page, watch: BrowserWatch
) -> None:
    target = make_target(interval=0.5, samples=3)
    config = target.config
    if config.interval < 0.2:
        pytest.skip(f"at {config.interval} s between messages, arrivals cannot be told apart")
    ui = MonitorPage(page)
    ui.open(target.base_url + "/")
    ui.start.click()
    expect(ui.lines.first).to_have_text(GREETING)
    # The first line is on screen while the later ones are still to come.
    shown_early = ui.lines.count()
    assert shown_early < config.total_messages
    expect(ui.status).to_have_attribute("data-status", "streaming")
    expect(ui.start).to_be_disabled()
    expect(ui.stop).to_be_enabled()

    ui.expect_completed(config.run_seconds)
    expect(ui.lines).to_have_count(config.total_messages)
    expect(ui.points).to_have_count(config.samples)
    timeline = ui.timeline()
    first = next(snap.t for snap in timeline if snap.lines >= 1)
    last = next(snap.t for snap in timeline if snap.lines >= config.total_messages)
    counts = sorted({snap.lines for snap in timeline if snap.lines > 0})
    assert counts == list(range(1, config.total_messages + 1)), f"lines came in bursts: {counts}"
    # Message 0 comes at once, the first sample within an interval, then one per interval.
    assert last - first >= (config.samples - 1) * config.interval * 0.8, (first, last)
