"""Every check on hand-built captures: a pass and a non-pass case each, evidence offsets asserted."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conformance.capture import Capture, EndReason, Redirect, replay
from conformance.checks.context import DisconnectRun
from conformance.contracts.ram_monitor import RamSample, parse_ram_sample
from conformance.models import Verdict
from conformance.profiles import Profile, load_profile
from tests.conformance.suite_helpers import (
    SENTINEL,
    SSE,
    frame,
    make,
    ram_messages,
    ram_profile,
    run_check,
    sample,
    timed,
)

PASS, WARN, FAIL, SKIP = Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.SKIP


def ram_capture(
    messages: list[str] | None = None,
    interval: float = 0.05,
    *,
    end_reason: EndReason = EndReason.CLOSED,
    t_end: float | None = None,
) -> tuple[Capture, Profile]:
    profile = ram_profile(interval=interval)
    chunks = timed(frame(messages or ram_messages()), interval)
    return make(chunks, profile=profile, end_reason=end_reason, t_end=t_end)


# --------------------------------------------------------------------------- http


@pytest.mark.parametrize(
    ("status", "verdict", "words"),
    [(200, PASS, "200 OK"), (204, FAIL, "asked clients to stop"), (500, FAIL, "status 500")],
)
def test_http_status(status: int, verdict: Verdict, words: str) -> None:
    cap, profile = make(b"", status=status)
    result = run_check("http.status", cap, profile)
    assert result.verdict is verdict
    assert words in result.reason
    if verdict is FAIL:
        assert result.evidence[0].offset is None
        assert str(status) in result.evidence[0].excerpt


def test_http_status_without_response_names_the_end_reason() -> None:
    cap, profile = make([], status=None, headers=(), end_reason=EndReason.FIRST_BYTE_TIMEOUT)
    result = run_check("http.status", cap, profile)
    assert result.verdict is FAIL
    assert "first-byte-timeout" in result.reason
    assert run_check("http.content-type", cap, profile).verdict is SKIP


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        ("text/event-stream", PASS),
        ("Text/Event-Stream ; charset=UTF-8", PASS),
        ("text/plain", FAIL),
        ("text/event-streams", FAIL),
        (None, FAIL),
    ],
)
def test_http_content_type(value: str | None, verdict: Verdict) -> None:
    headers = [("content-type", value)] if value is not None else []
    cap, profile = make(b"", headers=headers)
    result = run_check("http.content-type", cap, profile)
    assert result.verdict is verdict
    if verdict is FAIL:
        assert result.evidence[0].excerpt.startswith(
            f"content-type: {value}" if value else "(no content-type"
        )


@pytest.mark.parametrize(
    ("values", "verdict"),
    [(["no-cache"], PASS), (["private, no-store"], PASS), ([], WARN), (["max-age=60"], WARN)],
)
def test_http_cache_control(values: list[str], verdict: Verdict) -> None:
    headers = [("content-type", "text/event-stream")] + [("cache-control", v) for v in values]
    cap, profile = make(b"", headers=headers)
    assert run_check("http.cache-control", cap, profile).verdict is verdict


def test_http_content_encoding_and_length() -> None:
    cap, profile = make(b"", headers=[*SSE, ("content-encoding", "gzip"), ("content-length", "10")])
    enc = run_check("http.content-encoding", cap, profile)
    assert enc.verdict is PASS  # decoded as Chromium does; stream.incremental judges the timing
    assert "gzip, decoded as Chromium decodes it" in enc.reason
    length = run_check("http.content-length", cap, profile)
    assert length.verdict is WARN
    assert "buffered" in length.reason
    cap, profile = make(b"")
    assert run_check("http.content-encoding", cap, profile).verdict is PASS
    assert run_check("http.content-length", cap, profile).verdict is PASS


def test_http_redirect() -> None:
    cap, profile = make(b"")
    assert run_check("http.redirect", cap, profile).verdict is SKIP
    cap.redirects = [Redirect(302, "http://replay.invalid/old", "/stream")]
    assert run_check("http.redirect", cap, profile).verdict is PASS
    cap.redirects = [Redirect(302, "http://other.invalid/old", "http://replay.invalid/stream")]
    result = run_check("http.redirect", cap, profile)
    assert result.verdict is WARN
    assert "another origin" in result.reason


# --------------------------------------------------------------------------- framing


def test_framing_utf8() -> None:
    cap, profile = make(b"data: ok\n\ndata: \xffx\n\n")
    result = run_check("framing.utf8", cap, profile)
    assert result.verdict is FAIL
    assert result.evidence[0].offset == 16
    assert "\\xff" in result.evidence[0].excerpt
    cap, profile = make("data: h\u00e9llo \u2603\n\n".encode())
    assert run_check("framing.utf8", cap, profile).verdict is PASS


def test_framing_terminated() -> None:
    body = b"data: a\n\ndata: b\n"
    cap, profile = make(body)
    result = run_check("framing.terminated", cap, profile)
    assert result.verdict is FAIL
    assert result.evidence[0].offset == 9
    assert "discard" in result.reason
    # a capture the suite cut short proves nothing about the server's last event
    cap, profile = make(body, end_reason=EndReason.DEADLINE)
    assert run_check("framing.terminated", cap, profile).verdict is SKIP
    cap, profile = make(b"data: a\n\n: bye\n")
    assert run_check("framing.terminated", cap, profile).verdict is PASS
    cap, profile = make(b"data: a\n\ndata")  # a colon-less data line is data too
    assert run_check("framing.terminated", cap, profile).verdict is FAIL
    cap, profile = make(b"\xef\xbb\xbfdata: only")
    assert run_check("framing.terminated", cap, profile).verdict is FAIL
    cap, profile = make(b"data: a\n\nid: 5\n")  # no message lost: only a warning
    result = run_check("framing.terminated", cap, profile)
    assert result.verdict is WARN
    assert result.evidence[0].offset == 9
    # the id is never applied, but a retry line took effect when it was parsed
    assert "id and event lines are never applied" in result.reason
    assert "retry line is" in result.reason


@pytest.mark.parametrize(
    ("check_id", "body", "offset"),
    [
        ("framing.fields", b"data: a\nfoo: 1\n\n", 8),
        ("framing.fields", b"data: a\n\nhello\ndata: b\n\n", 9),
        ("framing.retry", b"data: a\n\nretry: 1s\ndata: b\n\n", 9),
        ("framing.id", b"id: a\x00b\ndata: a\n\n", 0),
        ("framing.dispatch", b"data: a\n\nevent: x\nid: 2\n\ndata: b\n\n", 9),
    ],
)
def test_framing_warnings(check_id: str, body: bytes, offset: int) -> None:
    cap, profile = make(body)
    result = run_check(check_id, cap, profile)
    assert result.verdict is WARN, result
    assert result.evidence[0].offset == offset


@pytest.mark.parametrize(
    "body",
    [
        b"data: a\r\n\r\n: keep-alive\r\n\r\nid: 7\r\nretry: 1000\r\ndata: b\r\n\r\n",
        b"data: a\r\rdata: b\r\r",
        b"\xef\xbb\xbfdata: a\n\n",
        b"event: add\ndata: 1\n\n",
        # issue 10: a retry-only block first (two Node.js libraries' default), an id-only block
        # last: each does exactly what its author meant.
        b"retry: 3000\n\ndata: x\n\n",
        b"data: x\n\nid: 7\n\n",
    ],
)
def test_valid_framing_passes_everything(body: bytes) -> None:
    cap, profile = make(body)
    for check_id in (
        "framing.utf8",
        "framing.terminated",
        "framing.fields",
        "framing.retry",
        "framing.id",
        "framing.dispatch",
        "framing.line-endings",
        "framing.line-length",
    ):
        assert run_check(check_id, cap, profile).verdict is PASS, check_id


def test_framing_line_endings_mixed() -> None:
    cap, profile = make(b"data: a\n\ndata: b\r\n\r\n")
    result = run_check("framing.line-endings", cap, profile)
    assert result.verdict is WARN
    assert "CRLF x2" in result.reason
    assert "LF x2" in result.reason


def test_framing_line_length() -> None:
    long = b"data: " + b"x" * 300 + b"\n\n"
    cap, profile = make(b"data: ok\n\n" + long, profile=make(b"")[1].replace(max_line_warn=100))
    result = run_check("framing.line-length", cap, profile)
    assert result.verdict is WARN
    assert "306 bytes" in result.reason
    assert result.evidence[0].offset == 10
    cut_profile = make(b"")[1].replace(max_line_bytes=64)
    cap, profile = make(b"data: ok\n\n" + long + b"data: after\n\n", profile=cut_profile)
    result = run_check("framing.line-length", cap, profile)
    assert result.verdict is WARN
    assert result.evidence[0].offset == 10
    assert cap.events[-1].data == "after"


def test_framing_skips_without_body() -> None:
    cap, profile = make([], status=None, headers=(), end_reason=EndReason.CONNECT_ERROR)
    for check_id in ("framing.utf8", "framing.terminated", "framing.fields"):
        assert run_check(check_id, cap, profile).verdict is SKIP


# --------------------------------------------------------------------------- payload


def test_payload_all_pass_for_the_ram_stream() -> None:
    cap, profile = ram_capture()
    for check_id in (
        "payload.count",
        "payload.sentinel",
        "payload.json",
        "payload.event-type",
        "payload.ram-format",
    ):
        assert run_check(check_id, cap, profile).verdict is PASS, check_id


def test_payload_count() -> None:
    messages = ram_messages()
    cap, profile = ram_capture([*messages[:-1], messages[1], messages[-1]])
    result = run_check("payload.count", cap, profile)
    assert result.verdict is FAIL
    assert "23 events, expected 22" in result.reason
    assert result.evidence[0].offset == cap.events[22].offset
    cap, profile = ram_capture(messages[:5], end_reason=EndReason.IDLE_TIMEOUT)
    result = run_check("payload.count", cap, profile)
    assert result.verdict is FAIL
    assert "5 of 22" in result.reason
    assert "idle-timeout" in result.reason
    cap, profile = make(b"data: a\n\n")
    assert run_check("payload.count", cap, profile).verdict is SKIP


def test_payload_sentinel() -> None:
    messages = ram_messages()
    cap, profile = ram_capture(messages[:-1])
    result = run_check("payload.sentinel", cap, profile)
    assert result.verdict is FAIL
    assert "never arrived" in result.reason
    assert result.evidence[0].offset == cap.events[-1].offset
    swapped = [*messages[:-2], messages[-1], messages[-2]]
    cap, profile = ram_capture(swapped)
    result = run_check("payload.sentinel", cap, profile)
    assert result.verdict is FAIL
    assert "event 21 of 22" in result.reason
    assert result.evidence[0].offset == cap.events[20].offset
    cap, profile = ram_capture([*messages, SENTINEL])
    assert "2 times" in run_check("payload.sentinel", cap, profile).reason


def test_payload_json() -> None:
    blocks = frame(ram_messages())
    blocks[3] = b"data: not json\n\n"
    cap, profile = make(timed(blocks), profile=ram_profile())
    result = run_check("payload.json", cap, profile)
    assert result.verdict is FAIL
    assert "event 4" in result.reason
    assert result.evidence[0].offset == cap.events[3].offset
    assert result.evidence[0].excerpt.startswith("data: not json\\n")
    # a non-JSON sentinel such as [DONE] is not held against the stream
    done = ram_profile(sentinel="[DONE]", expect_count=None, contract=None)
    cap, profile = make(b'data: {"a": 1}\n\ndata: [DONE]\n\n', profile=done)
    assert run_check("payload.json", cap, profile).verdict is PASS
    assert run_check("payload.sentinel", cap, profile).verdict is PASS
    cap, profile = make(b"data: plain\n\n")
    assert run_check("payload.json", cap, profile).verdict is SKIP


@pytest.mark.parametrize(
    ("values", "verdict", "words"),
    [
        # issue 10 §6: Chromium reads the last parsable value, not the first
        (("text/event-stream", "text/html"), FAIL, "'text/html' is not text/event-stream"),
        (("text/html", "text/event-stream"), WARN, "2 Content-Type headers"),
        (("text/event-stream, */*",), WARN, "2 values"),
        (("text/event-stream",), PASS, "Content-Type"),
    ],
)
def test_http_content_type_reads_what_chromium_reads(
    values: tuple[str, ...], verdict: Verdict, words: str
) -> None:
    headers = [("content-type", v) for v in values]
    cap, profile = make(b"data: a\n\n", headers=headers)
    result = run_check("http.content-type", cap, profile)
    assert result.verdict is verdict, result
    assert words in result.reason


@pytest.mark.parametrize(
    ("values", "verdict"),
    [
        (("text/event-stream;charset=latin1", "text/event-stream"), WARN),  # charset kept
        (("text/event-stream;charset=latin1", "text/html", "text/event-stream"), PASS),
        (("text/event-stream", "text/event-stream;charset=latin1"), WARN),
        (("text/event-stream;charset=latin1", "text/event-stream;charset=utf-8"), PASS),
    ],
)
def test_browser_charset_reads_what_fetch_extracts(
    values: tuple[str, ...], verdict: Verdict
) -> None:
    cap, profile = make(b"data: a\n\n", headers=[("content-type", v) for v in values])
    assert run_check("browser.charset", cap, profile).verdict is verdict


def test_http_cache_control_is_about_intermediaries() -> None:
    cap, profile = make(b"data: a\n\n", headers=[("content-type", "text/event-stream")])
    result = run_check("http.cache-control", cap, profile)
    assert result.verdict is WARN
    assert "cache mode no-store" in result.reason
    assert "RFC 9111" in result.reason
    assert result.spec.startswith("https://www.rfc-editor.org/rfc/rfc9111")


def test_payload_event_type() -> None:
    cap, generic = make(b"event: ram\ndata: 1\n\ndata: 2\n\n")
    profile = generic.replace(event_type="message")
    result = run_check("payload.event-type", cap, profile)
    assert result.verdict is WARN  # the second event is a message
    assert "onmessage never fires" in result.reason
    assert result.evidence[0].offset == 0
    assert run_check("payload.event-type", cap, profile.replace(event_type="ram")).verdict is WARN
    assert run_check("payload.event-type", cap, profile.replace(event_type=None)).verdict is SKIP
    cap, _ = make(b"event: ram\ndata: 1\n\n")
    assert run_check("payload.event-type", cap, profile).verdict is FAIL  # no message at all
    # generic without --event-type: a mixed stream is not judged, and says nothing more
    assert run_check("payload.event-type", cap, generic).verdict is SKIP


def test_generic_named_events_are_information_not_a_fail() -> None:
    """issue 10 §2: `event: update` is valid SSE; the page listens with addEventListener."""
    cap, generic = make(b"event: update\ndata: {}\n\n")
    assert generic.event_type is None
    result = run_check("payload.event-type", cap, generic)
    assert result.verdict is SKIP
    assert "onmessage will not fire; listen for: update" in result.reason
    # ram-monitor and openai-chat keep expecting `message`
    assert load_profile("ram-monitor").event_type == "message"
    assert load_profile("openai-chat").event_type == "message"


def test_payload_checks_judge_only_the_expected_type() -> None:
    """issue 10 §3: django-eventstream opens with `event: stream-open` and empty data, which the
    page's onmessage never receives; with `*` it is judged, and empty data is not invalid JSON."""
    opener = b"event: stream-open\ndata:\n\n"
    messages = [json.dumps(m) for m in ("a", "b", SENTINEL)]
    body = opener + b"".join(f"data: {m}\n\n".encode() for m in messages)
    profile = ram_profile(expect_count=3, contract=None)
    cap, profile = make(body, profile=profile)
    for check_id in ("payload.json", "payload.count", "payload.sentinel"):
        assert run_check(check_id, cap, profile).verdict is PASS, check_id
    result = run_check("payload.event-type", cap, profile)
    assert result.verdict is WARN  # an extra named event: only addEventListener sees it
    assert "'stream-open'" in result.reason
    any_type = profile.replace(event_type=None)
    result = run_check("payload.json", cap, any_type)
    assert result.verdict is PASS
    assert "1 empty data field not judged" in result.reason
    assert run_check("payload.count", cap, any_type).verdict is FAIL  # 4 events of any type
    strict = any_type.replace(json_empty_data="fail")
    result = run_check("payload.json", cap, strict)
    assert result.verdict is FAIL
    assert "event 1: empty data" in result.reason
    assert result.evidence[0].offset == 0


def test_payload_checks_skip_when_no_event_has_the_expected_type() -> None:
    """One verdict says the types are wrong (payload.event-type); the others do not echo it."""
    cap, profile = make(b'event: ram\ndata: "x"\n\n', profile=ram_profile(contract=None))
    assert run_check("payload.event-type", cap, profile).verdict is FAIL
    for check_id in ("payload.json", "payload.count", "payload.sentinel"):
        result = run_check(check_id, cap, profile)
        assert result.verdict is SKIP, check_id
        assert "payload.event-type reports it" in result.reason


@pytest.mark.parametrize(
    ("index", "text", "words"),
    [
        (0, "Hello", "first message"),
        (3, "2026-11-25 17:29:03 - RAM usage: 41.5% (9.00GB / 8.00GB)", "> total"),
        (3, "2026-11-25 17:29:03 - RAM usage: 141.5% (1.00GB / 8.00GB)", "outside 0..100"),
        (3, "2026-11-25 17:29:03 - RAM usage: 50.0% (1.00GB / 8.00GB)", "!="),
        (3, "2026-11-25 17:28:00 - RAM usage: 50.0% (4.00GB / 8.00GB)", "earlier"),
        (3, "RAM usage: 50%", "not 'YYYY"),
    ],
)
def test_payload_ram_format_failures(index: int, text: str, words: str) -> None:
    messages = ram_messages()
    messages[index] = text
    cap, profile = ram_capture(messages)
    result = run_check("payload.ram-format", cap, profile)
    assert result.verdict is FAIL
    assert words in result.reason
    assert result.evidence[0].offset == cap.events[index].offset


def test_payload_ram_format_sample_count_and_skip() -> None:
    messages = ram_messages(19)
    cap, profile = ram_capture(messages)
    assert "19 samples, expected 20" in run_check("payload.ram-format", cap, profile).reason
    cap, profile = make(b"data: a\n\n")
    assert run_check("payload.ram-format", cap, profile).verdict is SKIP


def test_parse_ram_sample_accepts_the_demo_rounding() -> None:
    parsed = parse_ram_sample("2026-11-25 17:29:55 - RAM usage: 1.9% (0.45GB / 23.54GB)")
    assert isinstance(parsed, RamSample)
    assert parsed.percent == 1.9
    assert isinstance(parse_ram_sample(sample(1, 99.9, 64.0)), RamSample)
    assert isinstance(parse_ram_sample(sample(1, 0.0)), RamSample)
    assert isinstance(parse_ram_sample(sample(1, 100.0)), RamSample)


# --------------------------------------------------------------------------- stream


def test_stream_first_event() -> None:
    cap, profile = ram_capture()
    assert run_check("stream.first-event", cap, profile).verdict is PASS
    late = [(6.0 + t, b) for t, b in timed(frame(ram_messages()))]
    cap, profile = make(late, profile=ram_profile())
    result = run_check("stream.first-event", cap, profile)
    assert result.verdict is FAIL
    assert "6.01 s" in result.reason
    assert result.evidence[0].offset == 0
    assert result.evidence[0].t == pytest.approx(6.01)
    quiet = [(0.0, b": nothing\n")]
    cap, profile = make(quiet, profile=ram_profile(), end_reason=EndReason.IDLE_TIMEOUT, t_end=3.0)
    assert "no event at all" in run_check("stream.first-event", cap, profile).reason
    # generic promises no event at any time: a quiet feed is valid (stream.heartbeat judges it)
    cap, profile = make(quiet, end_reason=EndReason.IDLE_TIMEOUT, t_end=3.0)
    result = run_check("stream.first-event", cap, profile)
    assert result.verdict is SKIP
    assert "nothing in the profile expects one" in result.reason
    assert "comments" in result.reason
    cap, profile = make(late)
    result = run_check("stream.first-event", cap, profile)
    assert result.verdict is PASS
    assert "6.01 s" in result.reason
    assert run_check("stream.first-event", cap, profile.replace(expect_count=22)).verdict is FAIL
    assert run_check("stream.first-event", cap, profile.replace(interval=1.0)).verdict is FAIL


def test_stream_incremental() -> None:
    cap, profile = ram_capture()
    assert run_check("stream.incremental", cap, profile).verdict is PASS
    # everything in one write at the end, after the stream's whole duration
    buffered = [(1.2, b"".join(frame(ram_messages())))]
    cap, profile = make(buffered, profile=ram_profile())
    result = run_check("stream.incremental", cap, profile)
    assert result.verdict is FAIL
    assert "22 of 22 events arrived together" in result.reason
    assert result.evidence[0].offset == 0
    # a fast server that sends everything right away is not buffering
    cap, profile = make(
        [(0.003, b"".join(frame(ram_messages())))], profile=ram_profile(interval=None)
    )
    assert run_check("stream.incremental", cap, profile).verdict is PASS
    cap, profile = make(b"data: a\n\n")
    assert run_check("stream.incremental", cap, profile).verdict is SKIP


def test_stream_cadence() -> None:
    cap, profile = ram_capture(interval=0.2)
    assert run_check("stream.cadence", cap, profile).verdict is PASS
    chunks = timed(frame(ram_messages()), 0.2)
    chunks[10:] = [(t + 1.5, b) for t, b in chunks[10:]]
    cap, profile = make(chunks, profile=ram_profile(interval=0.2))
    result = run_check("stream.cadence", cap, profile)
    assert result.verdict is WARN
    assert "1 of 20 gaps" in result.reason
    assert result.evidence[0].offset == cap.events[10].offset
    cap, profile = make(b"data: a\n\n")
    assert run_check("stream.cadence", cap, profile).verdict is SKIP


def test_stream_closes() -> None:
    cap, profile = ram_capture()
    result = run_check("stream.closes", cap, profile)
    assert result.verdict is PASS
    cap, profile = ram_capture(end_reason=EndReason.NOT_CLOSED_AFTER_SENTINEL, t_end=3.2)
    result = run_check("stream.closes", cap, profile)
    assert result.verdict is FAIL
    assert "still open" in result.reason
    assert result.evidence[0].offset == cap.events[-1].offset
    cap, profile = ram_capture(ram_messages()[:-1], end_reason=EndReason.DEADLINE)
    assert run_check("stream.closes", cap, profile).verdict is SKIP
    cap, profile = make(b"data: a\n\n", end_reason=EndReason.DEADLINE)
    result = run_check("stream.closes", cap, profile)  # an endless stream judged without --hold
    assert result.verdict is SKIP  # valid: not judged, and the reason says how to judge it
    assert "deadline" in result.reason
    assert "--hold" in result.reason
    cap, profile = make(b"data: a\n\n")
    assert run_check("stream.closes", cap, profile).verdict is PASS


def test_stream_clean_end() -> None:
    cap, profile = ram_capture(end_reason=EndReason.PROTOCOL_ERROR)
    result = run_check("stream.clean-end", cap, profile)
    assert result.verdict is WARN
    assert result.evidence[0].offset == cap.decoded_bytes
    cap, profile = ram_capture()
    assert run_check("stream.clean-end", cap, profile).verdict is PASS


def test_stream_concurrent() -> None:
    main, profile = ram_capture()
    good = [ram_capture()[0] for _ in range(3)]
    assert run_check("stream.concurrent", main, profile, concurrent=good).verdict is PASS
    part = ram_capture(ram_messages()[5:])[0]
    result = run_check("stream.concurrent", main, profile, concurrent=[good[0], part])
    assert result.verdict is FAIL
    assert "client 2: 17 of 22 events" in result.reason
    assert result.evidence[0].label == "client 2"
    assert result.evidence[0].describe().startswith("[client 2]")
    assert "greeting" in result.reason
    assert run_check("stream.concurrent", main, profile).verdict is SKIP


def test_stream_disconnect() -> None:
    main, profile = ram_capture()
    aborted = [
        dataclasses.replace(ram_capture(ram_messages()[:1])[0], end_reason=EndReason.ABORTED)
    ]
    run = DisconnectRun(aborted, ram_capture()[0], 0.1)
    assert run_check("stream.disconnect", main, profile, disconnect=run).verdict is PASS
    wedged = make([], end_reason=EndReason.IDLE_TIMEOUT, profile=profile)[0]
    result = run_check(
        "stream.disconnect", main, profile, disconnect=DisconnectRun(aborted, wedged, 0.1)
    )
    assert result.verdict is FAIL
    assert "0 of 22 events (capture ended: idle-timeout)" in result.reason
    slow_chunks = [(t + 7, b) for t, b in timed(frame(ram_messages()))]
    slow = make(slow_chunks, profile=profile)[0]
    result = run_check(
        "stream.disconnect", main, profile, disconnect=DisconnectRun(aborted, slow, 0.1)
    )
    assert result.verdict is FAIL
    assert "first event came after 7.01 s" in result.reason
    never = DisconnectRun([make([], end_reason=EndReason.IDLE_TIMEOUT)[0]], ram_capture()[0], 0.1)
    assert run_check("stream.disconnect", main, profile, disconnect=never).verdict is SKIP


# --------------------------------------------------------------------------- browser


def test_browser_charset() -> None:
    cap, profile = make(b"", headers=[("content-type", "text/event-stream; charset=windows-1252")])
    result = run_check("browser.charset", cap, profile)
    assert result.verdict is WARN
    assert "Chromium" in result.reason
    cap, profile = make(b"", headers=[("content-type", 'text/event-stream;charset="UTF-8"')])
    assert run_check("browser.charset", cap, profile).verdict is PASS


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        (b"\xef\xbb\xbf\ndata: a\n\ndata: b\n\n", WARN),
        (b"\xef\xbb\xbf\rdata: a\r\r", WARN),
        (b"\xef\xbb\xbf\r\ndata: a\r\n\r\n", PASS),
        (b"\xef\xbb\xbfdata: a\n\n", PASS),
    ],
)
def test_browser_bom_line_end(body: bytes, verdict: Verdict) -> None:
    cap, profile = make(body)
    result = run_check("browser.bom-line-end", cap, profile)
    assert result.verdict is verdict
    if verdict is WARN:
        assert result.evidence[0].offset == 0


def test_browser_empty_retry() -> None:
    cap, profile = make(b"retry:\ndata: a\n\n")
    result = run_check("browser.empty-retry", cap, profile)
    assert result.verdict is WARN
    assert result.evidence[0].offset == 0
    cap, profile = make(b"retry: 10\ndata: a\n\n")
    assert run_check("browser.empty-retry", cap, profile).verdict is PASS


def test_replay_times_events_by_their_completing_chunk() -> None:
    cap = replay([(0.1, b"data: a"), (0.5, b"\n\nda"), (0.9, b"ta: b\n\n")])
    assert [(e.data, e.t) for e in cap.events] == [("a", 0.5), ("b", 0.9)]
    assert cap.excerpt_at(9, 5) == b"data:"


# --------------------------------------------------------------------------- no echoes (H4's findings)


def test_extra_clients_do_not_echo_a_defect_every_client_sees() -> None:
    no_sentinel = ram_messages()[:-1]
    main, profile = ram_capture(no_sentinel)
    same = [ram_capture(no_sentinel)[0] for _ in range(3)]
    assert run_check("stream.concurrent", main, profile, concurrent=same).verdict is PASS
    first_only = ram_capture(no_sentinel[:1])[0]
    aborted = [dataclasses.replace(first_only, end_reason=EndReason.ABORTED)]
    run = DisconnectRun(aborted, same[1], 0.1)
    assert run_check("stream.disconnect", main, profile, disconnect=run).verdict is PASS
    # ...but a client that got a different number of events than the main one is still broken
    shorter = ram_capture(no_sentinel[:-3])[0]
    result = run_check("stream.concurrent", main, profile, concurrent=[shorter])
    assert result.verdict is FAIL
    assert "18 events, the main stream had 21" in result.reason


def chat_chunks(*contents: str) -> list[bytes]:
    chunks: list[dict[str, object]] = [
        {"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]}
        for c in contents
    ]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [*frame([json.dumps(c) for c in chunks], as_json=False), b"data: [DONE]\n\n"]


def test_extra_clients_are_held_to_the_profiles_contract_checks() -> None:
    # stream.concurrent knows no contract: the openai-chat contract's own check judges each client
    profile = load_profile("openai-chat")
    main = make(timed(chat_chunks("1", "2")), profile=profile)[0]
    same = make(timed(chat_chunks("1", "2")), profile=profile)[0]
    assert run_check("stream.concurrent", main, profile, concurrent=[same]).verdict is PASS
    error = b'data: {"error": {"message": "overloaded"}}\n\n'
    first, finish, done = chat_chunks("1")
    broken = make(timed([first, error, finish, done]), profile=profile)[0]
    result = run_check("stream.concurrent", main, profile, concurrent=[same, broken])
    assert result.verdict is FAIL
    assert "client 2: " in result.reason
    assert "an error object mid-stream: 'overloaded'" in result.reason
    # the same streams under the generic profile: nothing of the contract is judged (same length)
    generic = load_profile("generic")
    assert run_check("stream.concurrent", main, generic, concurrent=[broken]).verdict is PASS


def test_an_extra_client_without_any_event_is_broken_even_when_nothing_is_expected() -> None:
    profile = load_profile("generic")
    main = make(timed(frame(["a", "b", "c"])), profile=profile)[0]
    empty = make([], profile=profile, end_reason=EndReason.IDLE_TIMEOUT)[0]
    result = run_check("stream.concurrent", main, profile, concurrent=[empty])
    assert result.verdict is FAIL
    assert "client 1: no event (idle-timeout)" in result.reason
    refused = make(b"busy", profile=profile, status=503)[0]
    result = run_check("stream.concurrent", main, profile, concurrent=[refused])
    assert result.verdict is FAIL
    assert "client 1: status 503" in result.reason


def test_disconnect_follow_up_as_slow_as_the_main_stream_is_not_its_fault() -> None:
    slow = [(1.6 + t, b) for t, b in timed(frame(ram_messages()))]
    profile = ram_profile(first_event_timeout=1.0)
    main = make(slow, profile=profile)[0]
    first_only = make(slow[:1], profile=profile)[0]
    aborted = [dataclasses.replace(first_only, end_reason=EndReason.ABORTED)]
    run = DisconnectRun(aborted, make(slow, profile=profile)[0], 0.1)
    assert run_check("stream.disconnect", main, profile, disconnect=run).verdict is PASS
    assert run_check("stream.first-event", main, profile).verdict is FAIL


@pytest.mark.parametrize("status", [204, 500])
def test_checks_browsers_never_reach_skip_on_non_200(status: int) -> None:
    cap, profile = make(
        b"Internal Server Error", status=status, headers=[("content-type", "text/plain")]
    )
    assert run_check("http.status", cap, profile).verdict is FAIL
    for check_id in (
        "http.content-type",
        "http.cache-control",
        "framing.terminated",
        "framing.fields",
        "browser.charset",
        "stream.incremental",
        "stream.concurrent",
    ):
        result = run_check(check_id, cap, profile, concurrent=[])
        assert result.verdict is SKIP, check_id
        assert f"status {status}" in result.reason


def test_incremental_late_start_but_streamed_is_not_buffered() -> None:
    # headers at once, a first event at 1.6 s, then 22 events 20 ms apart, each in its own read
    chunks = [(0.2 * i, b": ping\n\n") for i in range(8)]
    chunks += [(1.6 + t, b) for t, b in timed(frame(ram_messages()), 0.02)]
    cap, profile = make(chunks, profile=ram_profile(interval=0.02))
    result = run_check("stream.incremental", cap, profile)
    assert result.verdict is PASS, result.reason
    # the same events in two reads after the same silence: buffered
    body = b"".join(frame(ram_messages()))
    cap, profile = make([(1.6, body[:700]), (1.61, body[700:])], profile=ram_profile(interval=0.02))
    assert run_check("stream.incremental", cap, profile).verdict is FAIL


def test_incremental_discounts_the_suites_own_stalls() -> None:
    body = b"".join(frame(ram_messages()))
    cap, profile = make([(1.2, body)], profile=ram_profile())
    cap.started_at = 100.0
    # the suite's loop was stuck from t=0.1 to t=1.19: the burst is its own doing
    stalled = run_check("stream.incremental", cap, profile, suite_stalls=((101.19, 1.09),))
    assert stalled.verdict is PASS
    assert "stalled" in stalled.reason
    # a short stall does not excuse a long silence
    short = run_check("stream.incremental", cap, profile, suite_stalls=((101.19, 0.2),))
    assert short.verdict is FAIL


def test_cadence_discounts_the_suites_own_stalls() -> None:
    chunks = timed(frame(ram_messages()), 0.2)
    chunks[10:] = [(t + 0.5, b) for t, b in chunks[10:]]
    cap, profile = make(chunks, profile=ram_profile(interval=0.2))
    cap.started_at = 50.0
    stall_end = 50.0 + chunks[10][0] - 0.01
    result = run_check("stream.cadence", cap, profile, suite_stalls=((stall_end, 0.55),))
    assert result.verdict is PASS, result.reason
    assert run_check("stream.cadence", cap, profile).verdict is WARN


def test_disconnect_needs_a_client_that_really_aborted_mid_stream() -> None:
    main, profile = ram_capture()
    got_all = dataclasses.replace(ram_capture()[0], end_reason=EndReason.ABORTED)
    run = DisconnectRun([got_all], ram_capture()[0], 0.1)
    result = run_check("stream.disconnect", main, profile, disconnect=run)
    assert result.verdict is SKIP
    assert "arrived at once" in result.reason


# --------------------------------------------------------------------------- issue 10 §4, §7, §8


def test_concurrent_clients_served_one_after_another_fail_with_the_timeline() -> None:
    main, profile = ram_capture()
    serial = []
    for i in range(3):
        cap = ram_capture()[0]
        cap.started_at = 0.0
        shift = 1.2 * (i + 1)  # headers only once the previous stream ended
        cap.t_headers = shift
        cap.t_end += shift
        serial.append(cap)
    result = run_check("stream.concurrent", main, profile, concurrent=serial)
    assert result.verdict is FAIL
    assert "one at a time" in result.reason
    assert any("client 2: first event at" in e.excerpt for e in result.evidence)


def test_concurrent_says_same_stream_when_the_main_one_is_not_complete() -> None:
    main, profile = ram_capture(ram_messages()[:5], end_reason=EndReason.PROTOCOL_ERROR)
    same = [ram_capture(ram_messages()[:5], end_reason=EndReason.PROTOCOL_ERROR)[0]] * 3
    result = run_check("stream.concurrent", main, profile, concurrent=same)
    assert result.verdict is PASS
    assert "the same stream as the main capture (events: 5, 5, 5" in result.reason


def test_disconnect_patience_comes_from_the_main_streams_pace() -> None:
    """A broadcast every 7 s: the follow-up waits a whole period; the main stream showed it."""
    profile = load_profile("generic")
    ticks = [(0.1 + 7 * i, b"data: tick\n\n") for i in range(4)]
    main = make(ticks, profile=profile, end_reason=EndReason.DEADLINE)[0]
    first = make(ticks[:1], profile=profile)[0]
    aborted = [dataclasses.replace(first, end_reason=EndReason.ABORTED)]
    late = make([(6.9, b"data: tick\n\n")], profile=profile, end_reason=EndReason.DEADLINE)[0]
    run = DisconnectRun(aborted, late, 0.2)
    result = run_check("stream.disconnect", main, profile, disconnect=run)
    assert result.verdict is PASS, result.reason
    quiet = make([(0.0, b": hi\n\n")], profile=profile, end_reason=EndReason.IDLE_TIMEOUT)[0]
    quiet.t_end = 15.0
    result = run_check("stream.disconnect", main, profile, disconnect=DisconnectRun(aborted, quiet))
    assert result.verdict is FAIL
    assert "no event in time" in result.reason
    assert "no event yet within 8.88 s" in result.reason


def test_disconnect_follow_up_cut_by_the_runs_deadline_is_judged_on_what_arrived() -> None:
    """The follow-up gets what is left of the deadline (issue 16): cut there, not its fault."""
    main, profile = ram_capture()
    aborted = [
        dataclasses.replace(ram_capture(ram_messages()[:1])[0], end_reason=EndReason.ABORTED)
    ]
    part = dataclasses.replace(ram_capture(ram_messages()[:8])[0], end_reason=EndReason.DEADLINE)
    cut = DisconnectRun(aborted, part, 0.1, follow_up_deadline=4.0)
    result = run_check("stream.disconnect", main, profile, disconnect=cut)
    assert result.verdict is PASS, result.reason
    # the same capture with the whole deadline to itself: cut short, a fail
    whole = DisconnectRun(aborted, part, 0.1)
    assert run_check("stream.disconnect", main, profile, disconnect=whole).verdict is FAIL
    empty = make([], end_reason=EndReason.DEADLINE, profile=profile)[0]
    short = DisconnectRun(aborted, empty, 0.1, follow_up_deadline=0.2)
    result = run_check("stream.disconnect", main, profile, disconnect=short)
    assert result.verdict is SKIP
    assert "left the follow-up client 0.2 s" in result.reason
    silent = dataclasses.replace(empty, t_end=50.0)  # 50 s left, and no event in them
    ample = DisconnectRun(aborted, silent, 0.1, follow_up_deadline=50.0)
    assert run_check("stream.disconnect", main, profile, disconnect=ample).verdict is FAIL
