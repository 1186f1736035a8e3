"""A real nginx in front of SSE upstreams: the buffering the suite must catch, and the opt-out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.capture.model import EndReason
from conformance.models import Report, Verdict
from conformance.profiles import load_profile
from conformance.reports.text import render_report
from conformance.runner import run_suite_sync
from testing.endless_servers import GOES_SILENT, PINGED_SILENCE
from testing.rawhttp import routes, threaded_sse_server
from testing.support import RunningServer, server_process, uvicorn_thread
from tests.integrations.nginx import LOCATION_BUFFERED, LOCATION_SSE, find_nginx, nginx_proxy
from tests.integrations.upstreams import ram_stream_app

INTERVAL = 0.08  # 21 gaps: a ~1.7 s stream
MAIN_ONLY = ("stream.concurrent", "stream.disconnect")
pytestmark = pytest.mark.skipif(
    find_nginx() is None, reason="nginx is not installed (Debian: apt-get install nginx)"
)


def event_arrivals(url: str) -> list[float]:
    """Seconds from the request at which each complete event (blank line) arrived."""
    times: list[float] = []
    started = time.monotonic()
    pending = b""
    with httpx.stream("GET", url, timeout=30) as response:
        for chunk in response.iter_bytes():
            now = time.monotonic() - started
            pending += chunk
            while b"\n\n" in pending:
                _, pending = pending.split(b"\n\n", 1)
                times.append(now)
    return times


@pytest.fixture(scope="module")
def bare_upstream() -> Iterator[RunningServer]:
    """Correct in every way but one: no ``X-Accel-Buffering: no``."""
    with uvicorn_thread(ram_stream_app(interval=INTERVAL, accel_header=False)) as server:
        yield server


@pytest.fixture(scope="module")
def opted_out_upstream() -> Iterator[RunningServer]:
    with uvicorn_thread(ram_stream_app(interval=INTERVAL, accel_header=True)) as server:
        yield server


def spread(times: list[float]) -> float:
    return times[-1] - times[0]


def test_buffering_proxy_delivers_a_bare_stream_in_one_burst(
    bare_upstream: RunningServer, tmp_path: Path
) -> None:
    direct = event_arrivals(bare_upstream.base_url + "/api/stream")
    with nginx_proxy(bare_upstream.port, tmp_path, location=LOCATION_BUFFERED) as proxy:
        proxied = event_arrivals(proxy.base_url + "/api/stream")
    assert len(direct) == len(proxied) == 22
    assert spread(direct) > 21 * INTERVAL * 0.8
    assert spread(proxied) < 0.3, proxied  # everything at the end


def test_x_accel_buffering_no_makes_the_same_proxy_stream(
    opted_out_upstream: RunningServer, tmp_path: Path
) -> None:
    with nginx_proxy(opted_out_upstream.port, tmp_path, location=LOCATION_BUFFERED) as proxy:
        proxied = event_arrivals(proxy.base_url + "/api/stream")
    assert len(proxied) == 22
    assert spread(proxied) > 21 * INTERVAL * 0.8


def test_recommended_settings_stream_even_without_the_header(
    bare_upstream: RunningServer, tmp_path: Path
) -> None:
    with nginx_proxy(bare_upstream.port, tmp_path, location=LOCATION_SSE) as proxy:
        proxied = event_arrivals(proxy.base_url + "/api/stream")
    assert len(proxied) == 22
    assert spread(proxied) > 21 * INTERVAL * 0.8


def test_proxy_buffering_alone_does_not_hold_events_back(
    bare_upstream: RunningServer, tmp_path: Path
) -> None:
    """The finding the README documents: on nginx 1.22 buffered mode forwards each upstream read
    to a fast client; events are held back only by a buffering filter in the chain (gzip)."""
    plain_buffering = "\n            proxy_buffering on;\n            proxy_buffers 8 64k;\n"
    with nginx_proxy(bare_upstream.port, tmp_path, location=plain_buffering) as proxy:
        proxied = event_arrivals(proxy.base_url + "/api/stream")
    assert len(proxied) == 22
    assert spread(proxied) > 21 * INTERVAL * 0.8


# --- the suite itself, through the proxy -------------------------------------------------


def judged(url: str, *, interval: float, **kwargs: object) -> Report:
    profile = load_profile("ram-monitor").replace(interval=interval, close_grace=0.5)
    return run_suite_sync(url, profile, **kwargs)  # type: ignore[arg-type]


def fails(report: Report) -> dict[str, str]:
    return {r.check_id: r.reason for r in report.results if r.verdict is Verdict.FAIL}


def test_suite_fails_stream_incremental_through_the_proxy_only(
    bare_upstream: RunningServer, tmp_path: Path
) -> None:
    direct = judged(bare_upstream.base_url + "/api/stream", interval=INTERVAL, skip=MAIN_ONLY)
    assert fails(direct) == {}
    with nginx_proxy(bare_upstream.port, tmp_path, location=LOCATION_BUFFERED) as proxy:
        proxied = judged(proxy.base_url + "/api/stream", interval=INTERVAL, skip=MAIN_ONLY)
    assert set(fails(proxied)) == {"stream.incremental"}, fails(proxied)
    result = proxied.result("stream.incremental")
    assert "buffered" in result.reason
    assert result.evidence
    assert result.evidence[0].t is not None
    assert result.evidence[0].t > 21 * INTERVAL * 0.8  # the burst came at the end
    # the compression is named by the failure; the decoding itself is right
    assert "compressed (Content-Encoding: gzip)" in result.reason
    assert proxied.result("http.content-encoding").verdict is Verdict.PASS


def test_reference_passes_through_the_buffering_proxy(tmp_path: Path) -> None:
    interval = 0.05
    with (
        server_process(["-m", "reference", "--interval", str(interval)]) as reference,
        nginx_proxy(reference.port, tmp_path, location=LOCATION_BUFFERED) as proxy,
    ):
        with httpx.stream("GET", reference.base_url + "/api/stream", timeout=10) as direct:
            opt_out = direct.headers.get("x-accel-buffering")
        report = judged(proxy.base_url + "/api/stream", interval=interval)
    assert opt_out == "no"  # what makes the difference (nginx consumes it: clients never see it)
    assert report.capture.header("x-accel-buffering") is None
    assert fails(report) == {}, fails(report)
    assert report.result("stream.incremental").verdict is Verdict.PASS
    assert report.result("stream.concurrent").verdict is Verdict.PASS
    assert report.exit_code() == 0


# --- endless streams through the proxy (issue 12) ------------------------------------------

# nginx's idle limit on a response, cut short for the test (the default is 60 s).
LOCATION_SHORT_READ_TIMEOUT = """
            proxy_buffering off;
            proxy_read_timeout 3s;
"""


@pytest.mark.slow  # waits out nginx's idle timeout: `nox -s slow` (CI runs it)
def test_a_silent_endless_stream_is_cut_by_the_proxy_and_the_verdict_says_so(
    tmp_path: Path,
) -> None:
    """Events for 1.2 s, then nothing: nginx cuts it 3 s later; with a comment every second
    the same stream passes through for the whole hold."""
    upstream = routes({"/silent": GOES_SILENT, "/pinged": PINGED_SILENCE})
    profile = load_profile("generic").replace(hold=7.0, heartbeat_max=5.0)
    with (
        threaded_sse_server(upstream) as origin,
        nginx_proxy(origin.port, tmp_path, location=LOCATION_SHORT_READ_TIMEOUT) as proxy,
    ):
        cut = run_suite_sync(proxy.base_url + "/silent", profile, skip=MAIN_ONLY)
        pinged = run_suite_sync(proxy.base_url + "/pinged", profile, skip=MAIN_ONLY)
    # the silent stream: cut about 3 s after its last byte, well before the hold ended
    assert cut.capture.end_reason is EndReason.PROTOCOL_ERROR, cut.capture.end_message
    assert 3.5 < cut.capture.t_end < 6.0
    heartbeat = cut.result("stream.heartbeat")
    assert heartbeat.verdict is Verdict.WARN, heartbeat.reason
    assert "connection was cut through nginx" in heartbeat.reason
    assert "idle timeout" in heartbeat.reason
    assert cut.result("stream.clean-end").verdict is Verdict.WARN
    assert "through: nginx" in render_report(cut)
    # the pinged one: held to the end, nothing to say
    assert pinged.capture.end_reason is EndReason.HELD, pinged.capture.end_message
    assert pinged.result("stream.heartbeat").verdict is Verdict.PASS
    assert fails(pinged) == {}
    assert not {r.check_id for r in pinged.results if r.verdict is Verdict.WARN}
