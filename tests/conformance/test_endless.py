"""Streams that never end (issue 12): --hold, stream.heartbeat, intermediaries, endless = true.

The known servers (testing/endless_servers.py) run at a test pace: holds of a few seconds,
heartbeat limits of a second. The real-world peers at their default 15 s ping (sse-starlette,
fastapi.sse) are in test_endless_peers.py, marked slow.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from conformance.capture.model import EndReason
from conformance.capture.recorder import replay
from conformance.checks.context import CheckContext
from conformance.checks.liveness import longest_silence
from conformance.checks.registry import get
from conformance.intermediaries import detect, limits_exceeded, through
from conformance.models import Report, Result, Verdict
from conformance.profiles import Profile, load_profile
from conformance.reports.json import report_to_dict
from conformance.reports.text import render_report
from conformance.runner import run_suite
from testing.endless_servers import (
    BUFFERED_HOLD,
    BURSTY_TICKER,
    ENDS_EARLY,
    PINGS_AND_RARE_DATA,
    SPARSE_NO_COMMENTS,
    TICKER_WITH_PINGS,
    EndlessStream,
)
from testing.rawhttp import Handler, threaded_sse_server
from tests.conformance.fast_suite import fast_profile

# Each case holds a stream for seconds (that is the point): `nox -s slow` (CI runs it).
pytestmark = pytest.mark.slow

HOLD = 3.5


def generic(**overrides: Any) -> Profile:
    return fast_profile("generic", **overrides)


async def judged(server: Handler, profile: Profile) -> Report:
    with threaded_sse_server(server) as running:
        return await run_suite(running.url, profile)


def bad(report: Report) -> dict[str, Result]:
    return {r.check_id: r for r in report.results if r.verdict in (Verdict.FAIL, Verdict.WARN)}


def describe(report: Report) -> str:
    lines = [f"end: {report.capture.end_reason} ({report.capture.end_message})"]
    lines += [f"  {r.check_id} {r.verdict}: {r.reason}" for r in bad(report).values()]
    return "\n".join(lines)


# A SHOULD check on gaps: a shared 2-core machine delays a tick now and then (as elsewhere).
TOLERATED = {"stream.cadence"}


def assert_clean(report: Report, *, warns: frozenset[str] | set[str] = frozenset()) -> None:
    found = {k for k, r in bad(report).items() if r.verdict is Verdict.FAIL}
    warned = {k for k, r in bad(report).items() if r.verdict is Verdict.WARN}
    assert found == set(), describe(report)
    assert warns <= warned, describe(report)
    assert warned - warns <= TOLERATED, describe(report)


# --------------------------------------------------------------------------- the known servers


async def test_ticker_with_pings_passes_under_hold() -> None:
    started = time.monotonic()
    report = await judged(TICKER_WITH_PINGS, generic(hold=HOLD))
    assert report.capture.end_reason is EndReason.HELD
    assert report.capture.end_message == f"held for {HOLD:g} s"
    assert not report.capture.end_reason.by_server
    assert_clean(report)
    assert report.result("stream.closes").verdict is Verdict.SKIP
    assert "held for 3.5 s" in report.result("stream.closes").reason
    assert report.result("stream.heartbeat").verdict is Verdict.PASS
    assert len(report.capture.events) >= 3
    # the disconnect follow-up ends with the main capture, not a whole hold later
    assert time.monotonic() - started < 2 * HOLD


async def test_held_ram_monitor_skips_the_count_and_judges_what_arrived() -> None:
    profile = fast_profile("ram-monitor", hold=HOLD, interval=1.0)
    report = await judged(TICKER_WITH_PINGS, profile)
    assert report.result("payload.count").verdict is Verdict.SKIP
    assert "held for" in report.result("payload.count").reason
    assert report.result("stream.closes").verdict is Verdict.SKIP
    # every other check judges the events that arrived: {"tick": n} is no RAM sample
    assert report.result("payload.ram-format").verdict is Verdict.FAIL


async def test_sparse_events_without_comments_warn_the_heartbeat() -> None:
    report = await judged(SPARSE_NO_COMMENTS, generic(hold=4.0, heartbeat_max=1.0))
    assert_clean(report, warns={"stream.heartbeat"})
    result = report.result("stream.heartbeat")
    assert "silent for 1.5" in result.reason
    assert "': ping'" in result.reason
    began, ended = result.evidence[:2]
    assert began.offset == ended.offset  # nothing in between
    assert began.t is not None
    assert ended.t is not None
    assert ended.t - began.t == pytest.approx(1.5, abs=0.3)


async def test_the_same_stream_passes_at_the_default_heartbeat() -> None:
    report = await judged(SPARSE_NO_COMMENTS, generic(hold=3.0))
    assert report.result("stream.heartbeat").verdict is Verdict.PASS


async def test_comments_keep_a_stream_with_rare_data_alive() -> None:
    report = await judged(PINGS_AND_RARE_DATA, generic(hold=4.5, heartbeat_max=1.0))
    assert_clean(report)
    assert report.capture.comments >= 10
    assert report.result("stream.heartbeat").verdict is Verdict.PASS


async def test_bursts_of_an_irregular_source_are_not_buffering_under_hold() -> None:
    report = await judged(BURSTY_TICKER, generic(hold=HOLD))
    assert_clean(report)
    assert report.result("stream.incremental").verdict is Verdict.PASS


async def test_the_whole_hold_in_one_block_is_buffering() -> None:
    report = await judged(BUFFERED_HOLD, generic(hold=HOLD))
    result = report.result("stream.incremental")
    assert result.verdict is Verdict.FAIL, describe(report)
    assert "buffered" in result.reason


async def test_an_endless_stream_without_hold_gets_a_verdict_not_a_hang() -> None:
    started = time.monotonic()
    report = await judged(TICKER_WITH_PINGS, generic(deadline=2.0))
    assert time.monotonic() - started < 2 * 2.0 + 3
    assert report.capture.end_reason is EndReason.DEADLINE
    assert "--hold" in report.capture.end_message
    result = report.result("stream.closes")
    assert result.verdict is Verdict.SKIP  # valid: not a defect, but not judged either
    assert "endless stream?" in result.reason
    assert "--hold" in result.reason
    assert report.exit_code() == 0
    assert "--hold" in render_report(report)


def test_the_cli_on_an_endless_stream_exits_in_time_without_a_traceback() -> None:
    with threaded_sse_server(TICKER_WITH_PINGS) as running:
        done = subprocess.run(
            [sys.executable, "-m", "conformance.cli", running.url, "--deadline", "2"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "--hold" in done.stdout
    assert "stream.closes" in done.stdout


async def test_an_endless_profile_fails_a_stream_the_server_ends() -> None:
    report = await judged(ENDS_EARLY, generic(hold=HOLD, endless=True))
    result = report.result("stream.closes")
    assert result.verdict is Verdict.FAIL, describe(report)
    assert "ended an endless stream" in result.reason
    # without endless = true, the same early end under hold is not judged
    report = await judged(ENDS_EARLY, generic(hold=HOLD))
    assert report.result("stream.closes").verdict is Verdict.SKIP


async def test_the_idle_limit_cuts_only_silences_beyond_it() -> None:
    silent = EndlessStream(event_every=0.3, events_until=0.7)
    report = await judged(silent, generic(hold=HOLD, idle_timeout=1.0, heartbeat_max=5.0))
    assert report.capture.end_reason is EndReason.IDLE_TIMEOUT
    # the check still measures the silence up to the end of the capture
    assert report.result("stream.heartbeat").verdict is Verdict.PASS


# --------------------------------------------------------------------------- stream.heartbeat


def run_heartbeat(chunks: list[tuple[float, bytes]], **kwargs: Any) -> Result:
    headers = kwargs.pop("headers", (("content-type", "text/event-stream"),))
    limit = kwargs.pop("heartbeat_max", 30.0)
    cap = replay(chunks, headers=headers, **kwargs)
    spec = get("stream.heartbeat")
    profile = load_profile("generic").replace(heartbeat_max=limit)
    return spec.result(spec.fn(CheckContext(cap, profile)))


def test_heartbeat_counts_every_byte_comments_included() -> None:
    chunks = [(0.1, b"data: a\n\n"), *((t, b": ping\n\n") for t in range(1, 100, 15))]
    result = run_heartbeat(chunks, end_reason=EndReason.HELD, t_end=100.0)
    assert result.verdict is Verdict.PASS
    assert "longest silence 15.00 s" in result.reason


def test_heartbeat_measures_the_wait_for_the_first_byte() -> None:
    result = run_heartbeat([(40.0, b"data: a\n\n")], end_reason=EndReason.HELD, t_end=41.0)
    assert result.verdict is Verdict.WARN
    assert "after the response headers" in result.reason
    # Heroku wants a first byte within 30 s... of the request: the headers came at once here
    assert "Heroku" not in result.reason
    assert result.evidence[0].offset == 0
    assert result.evidence[1].offset == 0
    assert result.evidence[1].t == 40.0


def test_heartbeat_measures_the_tail_of_a_held_capture() -> None:
    result = run_heartbeat(
        [(0.1, b"data: a\n\n"), (0.2, b"data: b\n\n")], end_reason=EndReason.HELD, t_end=70.0
    )
    assert result.verdict is Verdict.WARN
    assert "silent for 69.8 s after byte 18" in result.reason
    assert "nginx (proxy_read_timeout 60 s)" in result.reason
    assert "AWS ALB" in result.reason
    assert "Heroku" in result.reason
    assert "Cloudflare" not in result.reason  # 100 s
    assert result.evidence[0].offset == 18
    assert result.evidence[0].t == pytest.approx(0.2)
    assert "end of capture (held)" in result.evidence[1].excerpt


def test_heartbeat_evidence_shows_the_byte_that_broke_the_silence() -> None:
    chunks = [(0.1, b"data: a\n\n"), (35.0, b": still here\n\n"), (36.0, b"data: b\n\n")]
    result = run_heartbeat(chunks, end_reason=EndReason.HELD, t_end=40.0)
    assert result.verdict is Verdict.WARN
    began, ended = result.evidence[:2]
    assert (began.offset, began.t) == (9, 0.1)
    assert (ended.offset, ended.t) == (9, 35.0)
    assert ": still here" in ended.excerpt
    assert "close to the idle limits" in result.reason  # 34.9 s: under every default


def test_heartbeat_names_the_proxy_that_cut_the_stream() -> None:
    headers = (("content-type", "text/event-stream"), ("server", "nginx/1.22.1"))
    result = run_heartbeat(
        [(0.1, b"data: a\n\n")],
        headers=headers,
        end_reason=EndReason.PROTOCOL_ERROR,
        end_message="RemoteProtocolError: incomplete chunked read",
        t_end=3.1,
    )
    assert result.verdict is Verdict.WARN  # 3 s is under the limit, but the cut is the point
    assert "connection was cut through nginx (Server: nginx/1.22.1)" in result.reason
    assert "idle timeout" in result.reason
    assert any(e.label == "intermediary" for e in result.evidence)


def test_a_stream_that_ends_cleanly_after_a_pause_is_no_cut() -> None:
    result = run_heartbeat([(0.1, b"data: a\n\n")], end_reason=EndReason.CLOSED, t_end=3.0)
    assert result.verdict is Verdict.PASS


def test_longest_silence_of_an_empty_body_is_the_whole_capture() -> None:
    cap = replay([], end_reason=EndReason.HELD, t_end=12.0)
    silence = longest_silence(cap)
    assert silence is not None
    assert (silence.length, silence.after_headers, silence.at_end) == (12.0, True, True)


# --------------------------------------------------------------------------- intermediaries


@pytest.mark.parametrize(
    ("headers", "names"),
    [
        ([("Server", "nginx/1.22.1")], ["nginx"]),
        ([("Server", "openresty")], ["nginx"]),
        ([("Via", "1.1 vegur")], ["Heroku"]),
        ([("CF-Ray", "8a1b2c3d4e5f-AMS"), ("Server", "cloudflare")], ["Cloudflare"]),
        (
            [("Via", "1.1 abc.cloudfront.net (CloudFront)"), ("X-Amz-Cf-Id", "x")],
            ["CloudFront"],
        ),
        ([("X-Served-By", "cache-ams21051-AMS"), ("Via", "1.1 varnish")], ["Varnish", "Fastly"]),
        ([("Fly-Request-Id", "01H")], ["Fly.io"]),
        ([("X-Vercel-Id", "fra1::abc")], ["Vercel"]),
        ([("Server", "awselb/2.0")], ["AWS ALB"]),
        ([("Via", "1.1 squid")], ["a proxy"]),
        ([("Server", "uvicorn")], []),
        ([], []),
    ],
)
def test_detect_names_the_intermediaries(headers: list[tuple[str, str]], names: list[str]) -> None:
    assert [i.name for i in detect(headers)] == names


def test_through_and_the_idle_limit_table() -> None:
    seen = detect([("server", "nginx/1.22.1")])
    assert through(seen) == " through nginx (Server: nginx/1.22.1)"
    assert through([]) == ""
    assert [limit.name for limit in limits_exceeded(61)] == ["nginx", "AWS ALB", "Heroku"]
    assert [limit.name for limit in limits_exceeded(101)][-1] == "Cloudflare"
    assert [limit.name for limit in limits_exceeded(10, first_byte_wait=31)] == ["Heroku"]
    assert limits_exceeded(30) == []


async def test_reports_name_the_proxy_seen() -> None:
    headers = (("Content-Type", "text/event-stream"), ("Server", "nginx/1.22.1"))
    chunks = [(0.1, b"data: a\n\n")]
    cap = replay(chunks, headers=headers, end_reason=EndReason.HELD, t_end=1.0)
    from datetime import UTC, datetime

    profile = load_profile("generic")
    report = Report("http://x/", profile, datetime.now(UTC), 1.0, [], cap)
    assert "through: nginx (Server: nginx/1.22.1)" in render_report(report)
    assert report_to_dict(report)["intermediaries"] == [
        {"name": "nginx", "header": "Server: nginx/1.22.1"}
    ]
    from conformance.reports.html import render_html

    assert "nginx (Server: nginx/1.22.1)" in render_html(report)


# --------------------------------------------------------------------------- settings


def test_hold_endless_and_heartbeat_max_are_settings() -> None:
    from conformance.profiles import profile_from_flags, profile_from_mapping

    profile = profile_from_flags({"hold": "40", "endless": True, "heartbeat_max": "20"})
    assert (profile.limits.hold, profile.endless, profile.heartbeat_max) == (40.0, True, 20.0)
    assert profile.held
    assert profile_from_flags({"hold": "none"}).limits.hold is None
    from_file = profile_from_mapping({"endless": True, "limits": {"hold": 12}})
    assert from_file.limits.hold == 12
    assert from_file.endless


def test_the_default_idle_limit_is_above_the_heartbeat_limit() -> None:
    for name in ("generic",):
        profile = load_profile(name)
        assert profile.limits.idle_timeout > profile.heartbeat_max
    assert Profile().limits.idle_timeout > Profile().heartbeat_max


# --------------------------------------------------------------------------- load mode


async def test_load_mode_holds_endless_streams_for_the_duration() -> None:
    from conformance.load.runner import LoadConfig, run_load

    feed = EndlessStream(event_every=0.1, ping_every=0.05)
    with threaded_sse_server(feed) as running:
        config = LoadConfig(url=running.url, steps=[3], hold=1.0, timeout=2.0, endless=True)
        report = await run_load(config)
    step = report.steps[0]
    assert step.errors == {}
    assert step.ended == 0  # nothing ended: the streams were held for the whole step
    assert step.events >= 3 * 5
