"""Runs that do not end well: stopped by the user, cut by the server, or fed a bad message."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.harness import RECONNECT_WAIT_S, BrowserWatch, PageTarget
from e2e.servers import NOT_JSON_PAYLOAD, not_json_messages, serve_reference, sse_stream_app
from e2e.ui import GREETING, MonitorPage, check_sample
from testing.support import server_process

ERROR_WORDS = re.compile(r"error|lost|fail|closed|unavailable", re.IGNORECASE)


def test_stop_mid_stream_closes_the_stream(
    make_target: Callable[..., PageTarget], page: Page, watch: BrowserWatch
) -> None:
    # A slower run (about 5 s at 0.25 s) so that Stop lands in the middle of it.
    target = make_target(interval=0.25, samples=20)
    config = target.config
    if config.interval * config.samples < 2:
        pytest.skip(f"a {config.interval * config.samples:.1f} s run is too short to stop mid-run")
    ui = MonitorPage(page)
    ui.open(target.base_url + "/")
    ui.start.click()
    expect(ui.lines.nth(2)).to_be_visible()
    ui.stop.click()
    expect(ui.status).to_have_attribute("data-status", "stopped")
    shown = ui.lines.count()
    assert shown < config.total_messages, "the run ended before Stop was pressed"

    # Nothing changes after Stop: no line, no status, during several intervals.
    ui.page.wait_for_timeout(max(1.0, 4 * config.interval) * 1000)
    timeline = ui.timeline()
    stopped_at = next(i for i, snap in enumerate(timeline) if snap.status == "stopped")
    after = {(snap.status, snap.lines) for snap in timeline[stopped_at:]}
    assert after == {("stopped", shown)}, f"the page went on after Stop: {sorted(after)}"
    expect(ui.status).to_have_text(re.compile("stop", re.IGNORECASE))
    expect(ui.start).to_be_enabled()
    expect(ui.stop).to_be_disabled()

    # The browser's side of the closing: the stream's request is cancelled, not read to its end.
    streams = watch.stream_requests()
    assert len(streams) == 1
    assert watch.wait_until(lambda: streams[0] in watch.aborted or streams[0] in watch.finished)
    assert streams[0] in watch.aborted, "the stream's request was read to its end, not cancelled"

    if target.traffic is not None:
        # The server sees the browser hang up, and its stream stops working.
        exchanges = target.traffic.wait_for(
            lambda s: len(s) == 1 and s[0].ended is not None, timeout=5
        )
        assert len(exchanges) == 1
        assert exchanges[0].ended is not None, "the server's stream is still open"
        assert exchanges[0].client_disconnected, "the server was never told the client left"
        assert not exchanges[0].completed, "the server sent the whole run: Stop did not close it"
        health = httpx.get(f"{target.base_url}/healthz", timeout=5).json()
        assert health["open_streams"] == 0, health


@pytest.mark.owned_server
def test_server_death_shows_error_without_reconnect_storm(
    page: Page, watch: BrowserWatch, static_dir: Path | None
) -> None:
    argv = ["-m", "reference", "--interval", "0.2", "--log-level", "warning"]
    if static_dir is not None:
        argv += ["--static-dir", str(static_dir)]
    with server_process(argv) as server:
        ui = MonitorPage(page)
        ui.open(server.base_url + "/")
        ui.start.click()
        expect(ui.lines.nth(2)).to_be_visible()
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(5)

        # the page lets EventSource reconnect once (it resumes a cut stream): that attempt
        # fails against the dead server, and then the page gives up with an error in words
        expect(ui.status).to_have_attribute("data-status", "error", timeout=15_000)
        expect(ui.status).to_have_text(ERROR_WORDS)
        expect(ui.alert).to_be_visible()
        expect(ui.alert).to_have_text(ERROR_WORDS)
        expect(ui.start).to_be_enabled()
        expect(ui.stop).to_be_disabled()
        shown = ui.lines.count()

        ui.page.wait_for_timeout(RECONNECT_WAIT_S * 1000)
        attempts = [r.url for r in watch.stream_requests()]
        # the first stream and the one reconnect attempt, then nothing: no reconnection loop
        assert len(attempts) <= 2, f"the page kept reconnecting after the server died: {attempts}"
        assert ui.lines.count() == shown
        expect(ui.status).to_have_attribute("data-status", "error")


@pytest.mark.owned_server
def test_not_json_message_shows_error_and_run_continues(
    page: Page, static_dir: Path | None
) -> None:
    payloads = not_json_messages()
    stream = sse_stream_app(payloads, interval=0.05)
    # The reference serves the page and its config (for 4 messages between greeting and sentinel);
    # the test stream replaces /api/stream.
    with serve_reference(
        interval=0.05,
        samples=len(payloads) - 2,
        static_dir=static_dir,
        overrides={"/api/stream": stream},
    ) as served:
        ui = MonitorPage(page)
        ui.open(served.base_url + "/")
        ui.start.click()
        ui.expect_completed(15)

        expected_error = f"Invalid message (not JSON): {NOT_JSON_PAYLOAD}"
        expect(ui.error_lines).to_have_count(1)
        expect(ui.error_lines).to_have_text(expected_error)
        expect(ui.alert).to_be_visible()
        expect(ui.alert).to_contain_text(NOT_JSON_PAYLOAD)
        texts = ui.line_texts()
        assert texts[0] == GREETING
        assert texts[2] == expected_error
        assert texts[-1] == "RAM monitoring completed"
        # The run went on after the bad message: the samples after it are shown and charted.
        assert [check_sample(t) for t in texts[3:-1]] == [None, None]
        assert len(texts) == len(payloads)
        expect(ui.points).to_have_count(3)
        expect(ui.start).to_be_enabled()
        assert len(served.traffic.streams()) == 1
