"""Known-bad and known-good servers against the suite (issue 3 §6), and the server toolkit itself.

The toolkit tests come first: the matrix is only as trustworthy as the servers are exactly what
they claim to be (the bytes, the framing, the timing, the cross-connection behaviour).

Policy of the matrix:
- Each bad server is the good ram-monitor stream with ONE defect. The set of failed checks is
  asserted exactly: the intended check, plus only the consequences a user should be told about
  (a missing sentinel is also a wrong count), never an echo in an unrelated check (a payload defect
  must not fail stream.concurrent: every client sees the same stream). Reasons are asserted by
  words, evidence by byte offset into the server's body.
- Valid servers pass with no fail and, where the spec is clean, no warning; streams that are valid
  but risky (a BOM then LF, a non-UTF-8 charset, unknown fields...) warn exactly one check.
- stream.cadence (a SHOULD on 10 ms gaps) is tolerated everywhere but where it is the point: a
  shared 2-core machine delays a tick by 50 ms now and then.
- gzip: a stream compressed and flushed per event is delivered on time and browsers decode it, so
  it passes; a compressor that buffers fails stream.incremental, which names the compression
  (http.content-encoding judges only what it can see: how the body decodes).
- A 5 MB line that is valid JSON is valid SSE and browsers cope: it warns framing.line-length
  (with the suite's line limit below it, the warning says the rest was dropped).
- reconnect.* is skipped here (SKIP_RECONNECT): every server is the demo-compatible stream, which
  sends no ids and restarts on every request, so each would rightly warn reconnect.ids and
  reconnect.after-end; tests/conformance/test_reconnect.py proves exactly that verdict set on
  this very stream (demo-restart-loop) and judges its own resumable servers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import zlib
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.models import Report, Verdict
from conformance.runner import run_suite, run_suite_sync
from testing.known_servers import never_answer, redirect_to, shared_generator, wedge_after_abort
from testing.library_servers import (
    DJANGO_STREAM_OPEN,
    DUPLICATE_CONTENT_TYPE_HTML_LAST,
    DUPLICATE_CONTENT_TYPE_STREAM_LAST,
    NODE_RETRY_FIRST,
    broadcast,
    brotli_stream,
    gzip_members,
    one_at_a_time,
)
from testing.ram_stream import (
    SENTINEL,
    STARTING,
    encode_event,
    json_text,
    plain_text,
    ram_messages,
    split_after_cr,
    split_every,
)
from testing.rawhttp import Handler, routes, sse_server, threaded_sse_server
from testing.servers import presets
from testing.sse_response import SseResponse, error_page
from testing.support import server_process
from tests.conformance.fast_suite import Judge, fast_profile

# --------------------------------------------------------------------------- a raw client


async def fetch_raw(url: str, *, wait: float = 5.0, version: str = "HTTP/1.1") -> bytes:
    """Everything the server sends until it closes (no HTTP parsing: byte-exact)."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET {path} {version}\r\nHost: {host_port}\r\n\r\n".encode())
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return lines[0], headers, body


def dechunk(body: bytes) -> tuple[bytes, list[int]]:
    """The payload of a chunked body and its chunk sizes; asserts the terminating chunk is there."""
    out = bytearray()
    sizes: list[int] = []
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n", "chunked body must end with 0 CRLF CRLF"
            return bytes(out), sizes
        sizes.append(size)
        out += rest[:size]
        assert rest[size : size + 2] == b"\r\n"
        body = rest[size + 2 :]


def expected_body(spec: SseResponse) -> bytes:
    return b"".join(spec.blocks())


# --------------------------------------------------------------------------- toolkit tests


def test_encode_event_is_byte_exact() -> None:
    assert encode_event('"a"') == b'data: "a"\n\n'
    assert encode_event("x\ny", eol=b"\r\n", event="tick", event_id="7", retry=10) == (
        b"retry: 10\r\nid: 7\r\nevent: tick\r\ndata: x\r\ndata: y\r\n\r\n"
    )
    assert encode_event("a", comment="ka", terminate=False) == b":ka\ndata: a\n"


def test_ram_messages_follow_the_contract() -> None:
    texts = ram_messages()
    assert len(texts) == 22
    assert texts[0] == STARTING
    assert texts[-1] == SENTINEL
    for sample in texts[1:-1]:
        percent = float(sample.split("RAM usage: ")[1].split("%")[0])
        used, total = (float(x) for x in sample.split("(")[1].rstrip("GB)").split("GB / "))
        assert 0 <= percent <= 100
        assert used <= total
        assert abs(used - total * percent / 100) <= 0.01


def test_splitters_cover_the_block_exactly() -> None:
    block = encode_event('"a"', eol=b"\r\n")
    assert split_every(1)(block) == [bytes([b]) for b in block]
    pieces = split_after_cr(block)
    assert b"".join(pieces) == block
    assert all(p.endswith(b"\r") for p in pieces[:-1])
    assert all(not p.startswith(b"\r") for p in pieces)
    assert pieces[1].startswith(b"\n")


async def test_default_stream_is_chunked_one_chunk_per_event() -> None:
    spec = SseResponse(interval=0.001)
    async with sse_server(spec) as server:
        status, headers, body = split_response(await fetch_raw(server.url))
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "text/event-stream"
    assert headers["transfer-encoding"] == "chunked"
    payload, sizes = dechunk(body)
    assert len(sizes) == 22
    events = payload.split(b"\n\n")
    assert events[0] == b'data: "Starting system RAM monitoring..."'
    assert events[-2] == b'data: "RAM monitoring completed"'
    assert events[-1] == b""
    assert server.state.requests[0].target == "/api/stream"


async def test_close_delimited_http10_and_content_length() -> None:
    close10 = SseResponse(version="HTTP/1.0", framing="close", eol=b"\r", interval=0.001)
    async with sse_server(close10) as server:
        status, headers, body = split_response(await fetch_raw(server.url, version="HTTP/1.0"))
    assert status == "HTTP/1.0 200 OK"
    assert "transfer-encoding" not in headers
    assert "content-length" not in headers
    assert body.count(b"\r\r") == 22
    assert b"\n" not in body

    length = SseResponse(framing="length", interval=0.001)
    async with sse_server(length) as server:
        _, headers, body = split_response(await fetch_raw(server.url))
    assert int(headers["content-length"]) == len(body)
    assert body.count(b"\n\n") == 22


async def test_gzip_is_flushed_per_event_and_decodes_to_the_stream() -> None:
    spec = SseResponse(gzip=True, interval=0.001)
    async with sse_server(spec) as server:
        _, headers, body = split_response(await fetch_raw(server.url))
    assert headers["content-encoding"] == "gzip"
    payload, sizes = dechunk(body)
    assert len(sizes) >= 22  # one flushed chunk per event (+ the gzip trailer)
    decoded = zlib.decompress(payload, wbits=31)
    assert decoded.count(b"\n\n") == 22
    assert decoded.endswith(b'data: "RAM monitoring completed"\n\n')


async def test_defect_knobs_change_only_what_they_say() -> None:
    good = expected_body(SseResponse())
    unterminated = expected_body(SseResponse(terminate_last=False))
    assert unterminated == good[:-1]
    merged = expected_body(SseResponse(separator=b""))
    assert merged.count(b"\n\n") == 1
    assert merged.endswith(b'"RAM monitoring completed"\n\n')
    injected = expected_body(SseResponse(inject=((1, b": x\n"),)))
    assert injected.split(b"\n\n")[1].startswith(b": x\ndata: ")
    shifted = expected_body(SseResponse(transform=lambda texts: texts[:-1]))
    assert shifted.count(b"\n\n") == 21
    assert merged.count(b"data: ") == 22
    bom = expected_body(SseResponse(bom=b"\xef\xbb\xbf", eol=b"\r\n"))
    assert bom.startswith(b'\xef\xbb\xbfdata: "Starting')
    typed = expected_body(SseResponse(event_type="ram"))
    assert typed.count(b"event: ram\n") == 22
    with_ids = expected_body(SseResponse(ids=True, retry=1500))
    assert with_ids.startswith(b"retry: 1500\nid: 1\ndata:")
    assert with_ids.count(b"retry:") == 1
    infinite = SseResponse(infinite=True).blocks()
    assert [next(infinite) for _ in range(500)][-1].startswith(b'data: "')


async def test_redirect_then_stream_via_httpx() -> None:
    handler = routes(
        {"/api/stream": redirect_to("/real/stream"), "/real/stream": SseResponse(interval=0.001)}
    )
    async with sse_server(handler) as server, httpx.AsyncClient(follow_redirects=True) as client:
        response = await client.get(server.url)
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [302]
    assert response.text.count("\n\n") == 22


def test_threaded_server_serves_sync_clients_and_stops() -> None:
    with threaded_sse_server(SseResponse(interval=0.001)) as server:
        response = httpx.get(server.url, timeout=5)
        assert response.text.count("data: ") == 22
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=2)


async def test_hanging_handlers_stop_with_their_context() -> None:
    """A server that never answers, or never closes, is torn down without leaking tasks."""
    before = set(asyncio.all_tasks())
    for handler in (never_answer, SseResponse(after_sentinel="hang", interval=0.001)):
        async with sse_server(handler) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.2)
        # The server closed our connection when its context ended.
        rest = await asyncio.wait_for(reader.read(), 2)
        if handler is never_answer:
            assert rest == b""
        else:
            assert rest.endswith(b'data: "RAM monitoring completed"\n\n\r\n')  # no final 0-chunk
        writer.close()
    await asyncio.sleep(0)
    assert set(asyncio.all_tasks()) == before


async def test_shared_generator_splits_the_stream_between_concurrent_clients() -> None:
    async with sse_server(shared_generator(SseResponse(interval=0.01))) as server:
        bodies = await asyncio.gather(*(fetch_raw(server.url) for _ in range(3)))
    counts = [dechunk(split_response(b)[2])[0].count(b"\n\n") for b in bodies]
    assert sum(counts) == 22
    assert all(0 < c < 22 for c in counts)


async def test_wedge_after_abort_answers_nobody_after_one_abort() -> None:
    async with sse_server(wedge_after_abort(SseResponse(interval=0.02))) as server:
        assert (await fetch_raw(server.url)).count(b"data: ") == 22  # healthy at first
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"data:")
        writer.transport.abort()  # the client goes away mid-stream
        for _ in range(100):
            if server.state.aborted_mid_stream:
                break
            await asyncio.sleep(0.01)
        assert server.state.aborted_mid_stream == 1
        with pytest.raises(TimeoutError):
            await fetch_raw(server.url, wait=0.5)


async def test_reset_and_truncated_bodies() -> None:
    async with sse_server(SseResponse(reset_after=3, interval=0.001)) as server:
        try:
            raw = await fetch_raw(server.url)
        except ConnectionResetError:
            raw = b""  # the RST may also discard what was in flight: still a reset
        assert raw.count(b"data: ") <= 3
        assert not raw.endswith(b"0\r\n\r\n")
    async with sse_server(SseResponse(end_body=False, interval=0.001)) as server:
        raw = await fetch_raw(server.url)
    assert raw.endswith(b'data: "RAM monitoring completed"\n\n\r\n')


def test_spec_replace_keeps_everything_else() -> None:
    good = SseResponse()
    bad = dataclasses.replace(good, headers=(("Content-Type", "text/plain"),))
    assert bad.interval == good.interval
    assert bad.framing == good.framing
    assert json.loads(expected_body(bad).split(b"\n")[0][6:]) == STARTING


# --------------------------------------------------------------------------- the verdict matrix

BOM = b"\xef\xbb\xbf"
HEADERS_UTF8 = (("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache"))
HEADERS_1252 = (
    ("Content-Type", "text/event-stream;charset=windows-1252"),
    ("Cache-Control", "no-cache"),
)
HEADERS_PLAIN = (("Content-Type", "text/plain"), ("Cache-Control", "no-cache"))
FIVE_MB = 5 * 1024 * 1024
SINGLE_CLIENT = {"concurrency": 0, "disconnect_clients": 0}
SLOW_FIRST_LIMIT = 1.0  # the slow-first-event case's limit; its server waits 0.6 s longer


def padded_sample(index: int, text: str) -> str:
    """Sample 5 followed by 5 MB of JSON whitespace: a 5 MB line, yet the same JSON value."""
    return json_text(index, text) + (" " * FIVE_MB if index == 5 else "")


def sentinel_not_last(texts: list[str]) -> list[str]:
    """The sentinel one message early: a page closes before the last sample."""
    return [*texts[:-2], texts[-1], texts[-2]]


def one_extra(texts: list[str]) -> list[str]:
    """A 21st sample just before the sentinel."""
    return [*texts[:-1], texts[-2], texts[-1]]


def no_sentinel(texts: list[str]) -> list[str]:
    return texts[:-1]


Offset = Callable[[bytes], int]  # the server's body -> where the evidence must point


def long_line(body: bytes) -> int:
    """Where the padded 5 MB line starts."""
    return body.rindex(b"data: ", 0, body.index(b" " * 1000))


def last_event(body: bytes) -> int:
    return body.rindex(b"data: ")


def first_event(body: bytes) -> int:
    return body.index(b"data: ") if not body.startswith(b"event:") else 0


@dataclasses.dataclass(frozen=True)
class Case:
    """One server and the verdicts it must get.

    ``fails`` is the exact set of failed checks, so a defect that also trips an unrelated MUST
    check is caught; ``warns`` likewise for warnings. ``reasons`` maps a check id to words its
    reason must contain: the *right* reason, not just any fail. ``may_fail`` lists consequences
    that depend on scheduling (documented where used).
    """

    id: str
    make: Callable[[], Handler]
    fails: frozenset[str] = frozenset()
    warns: frozenset[str] = frozenset()
    reasons: Mapping[str, str] = dataclasses.field(default_factory=dict)
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    may_fail: frozenset[str] = frozenset()
    may_warn: frozenset[str] = frozenset()
    offsets: Mapping[str, Offset] = dataclasses.field(default_factory=dict)
    profile: str = "ram-monitor"


def case(
    id: str,
    server: SseResponse | Callable[[], Handler],
    fails: set[str] | None = None,
    warns: set[str] | None = None,
    *,
    reasons: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    may_fail: set[str] | None = None,
    may_warn: set[str] | None = None,
    offsets: Mapping[str, Offset] | None = None,
    profile: str = "ram-monitor",
    marks: Any = (),
) -> Any:
    """A pytest param; servers with state shared across connections are built fresh per test."""
    make: Callable[[], Handler] = (lambda: server) if isinstance(server, SseResponse) else server
    spec = Case(
        id,
        make,
        frozenset(fails or ()),
        frozenset(warns or ()),
        reasons or {},
        overrides or {},
        frozenset(may_fail or ()),
        frozenset(may_warn or ()),
        offsets or {},
        profile,
    )
    return pytest.param(spec, id=id, marks=marks)


GOOD = SseResponse()

KNOWN_BAD = [
    case(
        "content-type-text-plain",
        SseResponse(headers=HEADERS_PLAIN),
        {"http.content-type"},
        reasons={"http.content-type": "text/plain"},
    ),
    case(
        "status-500",
        error_page(500, b"Internal Server Error"),
        {"http.status"},
        reasons={"http.status": "500"},
    ),
    case(
        "status-204",
        SseResponse(status=204, headers=()),
        {"http.status"},
        reasons={"http.status": "asked clients to stop"},
    ),
    case(
        "last-event-not-terminated",
        SseResponse(terminate_last=False),
        {"framing.terminated", "payload.count", "payload.sentinel"},
        reasons={"framing.terminated": "blank line", "payload.count": "21 of 22"},
        offsets={"framing.terminated": last_event},
    ),
    case(
        "events-merged-by-single-newlines",
        SseResponse(separator=b""),
        {"payload.count", "payload.json", "payload.sentinel", "payload.ram-format"},
        reasons={"payload.count": "1 of 22"},
    ),
    case(
        "missing-sentinel",
        SseResponse(transform=no_sentinel),
        {"payload.count", "payload.sentinel"},
        reasons={"payload.sentinel": "never arrived", "payload.count": "21 of 22"},
        offsets={"payload.sentinel": last_event},
    ),
    case(
        "sentinel-not-last",
        SseResponse(transform=sentinel_not_last),
        # ram-format also fails, rightly: where the 20th sample belongs there is the sentinel.
        {"payload.sentinel", "payload.ram-format"},
        reasons={"payload.sentinel": "event 21 of 22"},
        offsets={"payload.sentinel": lambda body: body.index(b'data: "RAM monitoring completed"')},
    ),
    case(
        "one-extra-message",
        SseResponse(transform=one_extra),
        {"payload.count", "payload.ram-format"},
        reasons={"payload.count": "23 events, expected 22"},
        offsets={"payload.count": last_event},
    ),
    case(
        "buffered-chunked",
        SseResponse(buffered=True, interval=0.03),
        {"stream.incremental"},
        offsets={"stream.incremental": first_event},
    ),
    case(
        "buffered-content-length",
        SseResponse(framing="length", interval=0.03),
        {"stream.incremental"},
        {"http.content-length"},
    ),
    case(
        "non-json-data",
        SseResponse(encode=plain_text),
        {"payload.json"},
        reasons={"payload.json": "json"},
        offsets={"payload.json": first_event},
    ),
    case(
        "custom-event-type",
        SseResponse(event_type="ram"),
        {"payload.event-type"},
        reasons={"payload.event-type": "ram"},
        offsets={"payload.event-type": first_event},
    ),
    case(
        "invalid-utf8-byte",
        SseResponse(inject=((3, b": \xff\n"),)),
        {"framing.utf8"},
        offsets={"framing.utf8": lambda body: body.index(b"\xff")},
    ),
    case(
        "never-closes-after-sentinel",
        SseResponse(after_sentinel="hang"),
        {"stream.closes"},
        reasons={"stream.closes": "still open"},
        offsets={"stream.closes": last_event},
    ),
    # With CR-only line endings the sentinel's blank line ends in a lone CR: a parser that waits
    # for a possible LF would never see the sentinel and blame the wrong check.
    case(
        "cr-only-never-closes-after-sentinel",
        SseResponse(eol=b"\r", after_sentinel="hang"),
        {"stream.closes"},
        reasons={"stream.closes": "still open"},
        offsets={"stream.closes": last_event},
    ),
    case(
        "slow-first-event",
        # Headers at once and ": ping" comments meanwhile, so no capture limit trips: only the
        # first event is late.
        SseResponse(first_delay=SLOW_FIRST_LIMIT + 0.6, keepalive_every=0.25),
        {"stream.first-event"},
        reasons={"stream.first-event": f"limit {SLOW_FIRST_LIMIT:g} s"},
        overrides={"first_event_timeout": SLOW_FIRST_LIMIT},
    ),
    case(
        "accepts-never-answers",
        lambda: never_answer,
        {"http.status"},
        reasons={"http.status": "first-byte-timeout"},
        overrides={"first_byte_timeout": 1.0},
    ),
    case(
        "one-generator-shared-by-all-clients",
        lambda: shared_generator(),
        # Eight clients pull from one source: every one, the main capture and the follow-up of
        # stream.disconnect included, gets a fragment (ram-format: "4 samples, expected 20").
        {"stream.concurrent", "stream.disconnect", "payload.count", "payload.ram-format"},
        # Which client the sentinel lands on is up to the scheduler:
        may_fail={"payload.sentinel", "stream.closes"},
        reasons={"stream.concurrent": "concurrent clients got a broken stream"},
    ),
    # issue 10 §6: two Content-Type headers; Chromium uses the last (Fetch's extract a MIME type).
    case(
        "duplicate-content-type-html-last",
        SseResponse(headers=DUPLICATE_CONTENT_TYPE_HTML_LAST),
        {"http.content-type"},
        reasons={"http.content-type": "'text/html' is not text/event-stream (2 content-type"},
    ),
    case(
        "no-content-type",
        SseResponse(headers=(("Cache-Control", "no-cache"),)),
        {"http.content-type"},
        reasons={"http.content-type": "no content-type"},
    ),
    case(
        "redirect-to-404",
        lambda: routes({"/api/stream": redirect_to("/gone")}),
        {"http.status"},
        reasons={"http.status": "404 after 1 redirect"},
    ),
    case(
        "sentinel-twice",
        SseResponse(transform=lambda texts: [*texts[:-1], texts[-1], texts[-1]]),
        # count: 23 events; ram-format: where nothing more belongs there is another message.
        {"payload.sentinel", "payload.count", "payload.ram-format"},
        reasons={"payload.sentinel": "2 times"},
    ),
    case(
        "crashes-mid-stream",
        SseResponse(reset_after=10),
        # ram-format rightly says "9 samples, expected 20"; the reset itself is a SHOULD warning.
        {"payload.count", "payload.sentinel", "payload.ram-format"},
        {"stream.clean-end"},
        reasons={"payload.count": "10 of 22"},
    ),
    case(
        "stalls-mid-stream",
        SseResponse(pause_before=lambda index: 2.5 if index == 10 else 0.02),
        # The capture gives up after idle_timeout (1 s here): the reason must say so.
        {"payload.count", "payload.sentinel", "payload.ram-format"},
        reasons={"payload.count": "idle-timeout"},
        overrides={"idle_timeout": 1.0},
    ),
    case(
        "wedges-after-client-abort",
        lambda: wedge_after_abort(),
        {"stream.disconnect"},
        overrides={"first_byte_timeout": 1.0},
    ),
    case(
        "infinite-stream",
        SseResponse(infinite=True),
        # ram-format: "N samples, expected 20"; stream.closes skips (no sentinel to close after).
        {"payload.count", "payload.sentinel", "payload.ram-format"},
        overrides={"deadline": 2.0},
        reasons={"payload.sentinel": "never arrived"},
    ),
    case(
        "gzip-buffered-by-compressor",
        SseResponse(gzip=True, buffered=True, interval=0.03),
        {"stream.incremental"},
        reasons={"stream.incremental": "compressed (Content-Encoding: gzip)"},
    ),
    # issue 10 §5: the buffering compressor is named (the body is decoded as Chromium does).
    case(
        "brotli-buffered-by-compressor",
        lambda: brotli_stream(SseResponse(interval=0.03), flush=False),
        {"stream.incremental"},
        reasons={"stream.incremental": "compressed (Content-Encoding: br)"},
    ),
    # Each event its own gzip member: Chromium decodes the first only; the verdict says so.
    case(
        "gzip-member-per-event",
        lambda: gzip_members(),
        {"payload.count", "payload.sentinel", "payload.ram-format"},
        {"http.content-encoding"},
        reasons={
            "http.content-encoding": "bytes after the first gzip member are ignored by Chromium",
            "payload.count": "1 of 22",
        },
    ),
    # Labelled br, sent plain: one verdict says the body cannot be decoded; the rest skip.
    case(
        "br-label-on-plain-bytes",
        SseResponse(headers=(*GOOD.headers, ("Content-Encoding", "br"))),
        {"http.content-encoding"},
        reasons={"http.content-encoding": "cannot decode"},
    ),
    # issue 10 §7: a single-threaded server (bottle on wsgiref) serves the clients one after
    # another; each stream takes 2.2 s, beyond the 2 s first-event limit of the next client.
    case(
        "one-client-at-a-time",
        lambda: one_at_a_time(SseResponse(interval=0.1)),
        {"stream.concurrent", "stream.disconnect"},
        reasons={
            "stream.concurrent": "one at a time",
            "stream.disconnect": "no event in time",
        },
        overrides={"interval": 0.1, "deadline": 12.0, "first_byte_timeout": 8.0},
    ),
    case(
        "irregular-cadence",
        SseResponse(pause_before=lambda index: 0.3 if index % 7 == 0 else 0.02),
        set(),
        {"stream.cadence"},
    ),
]

KNOWN_GOOD = [
    case("reference-like-lf", GOOD),
    case("crlf", SseResponse(eol=b"\r\n")),
    case("cr-only", SseResponse(eol=b"\r")),
    case("bom-then-data", SseResponse(bom=BOM)),
    case("bom-then-crlf", SseResponse(bom=BOM + b"\r\n", eol=b"\r\n")),
    case("comment-keepalives", SseResponse(comments=True)),
    case("ids-and-retry", SseResponse(ids=True, retry=2500)),
    case("charset-utf-8", SseResponse(headers=HEADERS_UTF8)),
    case(
        "content-type-upper-case",
        SseResponse(headers=(("content-type", "TEXT/Event-Stream"), ("Cache-Control", "no-cache"))),
    ),
    case("no-space-after-colon", SseResponse(space=b"")),
    case("explicit-event-message", SseResponse(event_type="message")),
    # Every event arrived and the page closed on the sentinel; only the body's end is broken.
    case(
        "truncated-chunked-after-sentinel", SseResponse(end_body=False), warns={"stream.clean-end"}
    ),
    # issue 10 §3: the opener is not a message (onmessage never sees it): payload checks judge
    # the 22 messages; only the explicit warning says a listener-less event came.
    case(
        "django-eventstream-stream-open",
        SseResponse(inject=((0, DJANGO_STREAM_OPEN),)),
        warns={"payload.event-type"},
        reasons={"payload.event-type": "'stream-open'"},
        offsets={"payload.event-type": lambda body: 0},
    ),
    # ... and the reverse works in Chromium: it only warns about the duplicate.
    case(
        "duplicate-content-type-event-stream-last",
        SseResponse(headers=DUPLICATE_CONTENT_TYPE_STREAM_LAST),
        warns={"http.content-type"},
        reasons={"http.content-type": "browsers use the last"},
    ),
    case("http10-close-delimited", SseResponse(version="HTTP/1.0", framing="close")),
    case("http11-close-delimited", SseResponse(framing="close")),
    case("byte-at-a-time", SseResponse(splitter=split_every(1), interval=0.01)),
    case("split-between-cr-and-lf", SseResponse(eol=b"\r\n", splitter=split_after_cr)),
    case("cr-only-byte-at-a-time", SseResponse(eol=b"\r", splitter=split_every(1), interval=0.01)),
    case(
        "demo-timing-greeting-with-first-sample",
        SseResponse(pause_before=lambda index: 0.0 if index == 1 else 0.02),
    ),
    case(
        "redirect-302-to-stream",
        lambda: routes({"/api/stream": redirect_to("/v2/stream"), "/v2/stream": GOOD}),
    ),
    # Compressed but flushed per event: browsers decode it and nothing is delayed, so it passes
    # (a compressor that holds events back fails stream.incremental: gzip-buffered-by-compressor).
    case("gzip-flushed-per-event", SseResponse(gzip=True)),
    case("brotli-flushed-per-event", lambda: brotli_stream()),
    # A coding Chromium does not know: it passes the bytes through, and so does the suite.
    case(
        "unknown-coding-passed-through",
        SseResponse(headers=(*GOOD.headers, ("Content-Encoding", "x-custom"))),
        warns={"http.content-encoding"},
        reasons={"http.content-encoding": "passes the body through undecoded"},
    ),
    # A 5 MB line that is valid JSON with the same value: browsers cope; it only warns. Without
    # the extra clients: eight 5 MB copies through one GIL would measure this harness's server
    # thread (a stalled reader looks like a buffering server), not the server under test.
    case(
        "five-mb-line",
        SseResponse(encode=padded_sample),
        warns={"framing.line-length"},
        overrides=SINGLE_CLIENT,
        offsets={"framing.line-length": long_line},
    ),
    # Valid by the spec, broken in Chromium: pass every MUST, warn the browser check.
    case(
        "bom-then-bare-lf",
        SseResponse(bom=BOM + b"\n"),
        warns={"browser.bom-line-end"},
        offsets={"browser.bom-line-end": lambda body: 0},
    ),
    case(
        "bom-then-lone-cr",
        SseResponse(bom=BOM + b"\r", eol=b"\r"),
        warns={"browser.bom-line-end"},
        offsets={"browser.bom-line-end": lambda body: 0},
    ),
    case("charset-windows-1252", SseResponse(headers=HEADERS_1252), warns={"browser.charset"}),
    # Valid streams with a smell: every MUST passes, exactly the one SHOULD check warns.
    case(
        "no-cache-control",
        SseResponse(headers=(("Content-Type", "text/event-stream"),)),
        warns={"http.cache-control"},
    ),
    case(
        "unknown-field",
        SseResponse(inject=((2, b"foo: bar\n"),)),
        warns={"framing.fields"},
        offsets={"framing.fields": lambda body: body.index(b"foo: bar")},
    ),
    case(
        "colon-less-line",
        SseResponse(inject=((2, b"nocolon\n"),)),
        warns={"framing.fields"},
        offsets={"framing.fields": lambda body: body.index(b"nocolon")},
    ),
    case(
        "bogus-retry",
        SseResponse(inject=((2, b"retry: 1.5\n"),)),
        warns={"framing.retry"},
        offsets={"framing.retry": lambda body: body.index(b"retry: 1.5")},
    ),
    case("empty-retry", SseResponse(inject=((2, b"retry:\n"),)), warns={"browser.empty-retry"}),
    case(
        "nul-in-id",
        SseResponse(inject=((2, b"id: a\x00b\n"),)),
        warns={"framing.id"},
        offsets={"framing.id": lambda body: body.index(b"id: a")},
    ),
    # issue 10 §1: an id-only block sets the last event ID, a retry-only block the reconnection
    # time (the default of two Node.js libraries: `retry: 3000` first): both do what was meant.
    case("id-only-block", SseResponse(inject=((2, b"id: 7\n\n"),))),
    case("node-retry-first-block", SseResponse(inject=((0, NODE_RETRY_FIRST),))),
    # ... but an event type without data is never used.
    case(
        "event-only-block",
        SseResponse(inject=((2, b"event: update\n\n"),)),
        warns={"framing.dispatch"},
        reasons={"framing.dispatch": "event type"},
        offsets={"framing.dispatch": lambda body: body.index(b"event: update")},
    ),
    case(
        "mixed-line-endings",
        SseResponse(inject=((2, b": crlf here\r\n"),)),
        warns={"framing.line-endings"},
    ),
    # The suite's own line limit below the line: it says it cut the line, and does not crash.
    case(
        "five-mb-line-over-the-suite-limit",
        SseResponse(encode=padded_sample),
        warns={"framing.line-length"},
        overrides={**SINGLE_CLIENT, "max_line_bytes": 1024 * 1024},
        reasons={"framing.line-length": "dropped"},
        offsets={"framing.line-length": long_line},
    ),
]


# The generic profile judges the protocol only: what is a payload defect for the ram monitor is a
# valid stream for it, unless the user states the expectation.
GENERIC = [
    case("generic-non-json-data", SseResponse(encode=plain_text), profile="generic"),
    case(
        "generic-any-event-type",
        SseResponse(event_type="ram"),
        profile="generic",
        overrides={"event_type": None},
    ),
    # issue 10 §2: a named event is valid SSE; generic judges the type only when asked, and
    # says what the page must listen for.
    case(
        "generic-named-events-are-information",
        SseResponse(event_type="update"),
        profile="generic",
        reasons={"payload.event-type": "onmessage will not fire; listen for: update"},
    ),
    case(
        "generic-custom-type-fails-onmessage-when-asked",
        SseResponse(event_type="ram"),
        {"payload.event-type"},
        profile="generic",
        overrides={"event_type": "message"},
        reasons={"payload.event-type": "onmessage"},
    ),
    # issue 10 §3: django-eventstream opens with `event: stream-open` and an empty data field.
    case(
        "generic-django-stream-open-any-type-json",
        SseResponse(inject=((0, DJANGO_STREAM_OPEN),)),
        profile="generic",
        overrides={"event_type": None, "data_format": "json"},
        reasons={"payload.json": "1 empty data field not judged"},
    ),
    # issue 10 §4: a broadcast every 1.8 s (the 7 s, scaled): the follow-up client
    # connects just after a tick and waits a whole period, beyond first_event_timeout (1 s); the
    # main stream showed that pace, so that is not the server's fault.
    case(
        "generic-slow-broadcast",
        lambda: broadcast(1.8),
        profile="generic",
        overrides={"first_event_timeout": 1.0, "idle_timeout": 3.0, "deadline": 5.0},
    ),
    case(
        "generic-open-ended-stream",
        SseResponse(infinite=True),
        set(),
        set(),  # still open at the deadline: stream.closes skips, suggesting --hold (valid)
        profile="generic",
        overrides={"deadline": 2.0},
    ),
    case(
        "generic-silent-gap",
        SseResponse(pause_before=lambda index: 1.3 if index == 10 else 0.01),
        set(),
        {"stream.heartbeat"},  # no byte for 1.3 s (heartbeat_max 1 s here): a proxy may cut it
        profile="generic",
        overrides={"heartbeat_max": 1.0},
        reasons={"stream.heartbeat": "silent for 1.3"},
    ),
    case("generic-no-sentinel", SseResponse(transform=no_sentinel), profile="generic"),
    case(
        "generic-multi-line-data",
        SseResponse(encode=lambda index, text: text.replace(" - ", "\n")),
        profile="generic",
    ),
    case(
        "generic-sentinel-when-asked",
        SseResponse(transform=no_sentinel),
        {"payload.sentinel"},
        profile="generic",
        overrides={"sentinel": SENTINEL},
    ),
    case(
        "generic-count-when-asked",
        SseResponse(transform=one_extra),
        {"payload.count"},
        profile="generic",
        overrides={"expect_count": 22},
    ),
]


SKIP_RECONNECT = ("reconnect.*",)


def verdicts(report: Report, verdict: Verdict) -> set[str]:
    return {r.check_id for r in report.results if r.verdict == verdict}


def describe(report: Report) -> str:
    lines = [f"end: {report.capture.end_reason} ({report.capture.end_message})"]
    lines += [
        f"  {r.check_id} {r.verdict}: {r.reason}"
        for r in report.results
        if r.verdict in (Verdict.FAIL, Verdict.WARN)
    ]
    return "\n".join(lines)


# A SHOULD check on inter-event gaps of 10 ms: on a shared 2-core machine any 50 ms hiccup of the
# scheduler warns it. It is asserted where it is the point (irregular-cadence), tolerated elsewhere.
TIMING_WARNINGS = frozenset({"stream.cadence"})


def assert_verdicts(report: Report, spec: Case) -> None:
    failed = verdicts(report, Verdict.FAIL)
    warned = verdicts(report, Verdict.WARN)
    context = describe(report)
    assert spec.fails <= failed, f"intended failures missing\n{context}"
    assert failed - spec.fails <= spec.may_fail, f"unrelated checks failed\n{context}"
    assert spec.warns <= warned, f"intended warnings missing\n{context}"
    tolerated = spec.may_warn | TIMING_WARNINGS
    assert warned - spec.warns <= tolerated, f"unexpected warnings\n{context}"
    for check_id, words in spec.reasons.items():
        reason = report.result(check_id).reason
        assert words.lower() in reason.lower(), f"{check_id}: {reason!r} lacks {words!r}"
    for check_id in failed | warned:
        result = report.result(check_id)
        assert result.reason, f"{check_id} gave no reason"


def assert_ended_in_time(report: Report) -> None:
    """Generous: the main capture and, after the aborting clients, one follow-up, each bounded."""
    limits = report.profile.limits
    bound = 2 * (limits.deadline + limits.close_grace) + 2.0
    assert report.duration_s < bound, f"run took {report.duration_s:.1f} s (bound {bound:.1f} s)"


def assert_offsets(report: Report, spec: Case, server: Handler) -> None:
    """Evidence points at the defect's byte (the servers' bodies have a fixed length per run)."""
    if not spec.offsets:
        return
    assert isinstance(server, SseResponse)
    body = b"".join(server.blocks())
    for check_id, where in spec.offsets.items():
        expected = where(body)
        found = [e.offset for e in report.result(check_id).evidence]
        assert expected in found, f"{check_id}: evidence at {found}, expected {expected}"


@pytest.mark.parametrize("spec", KNOWN_BAD)
async def test_known_bad_server_fails_for_the_right_reason(
    suite_against: Judge, spec: Case
) -> None:
    server = spec.make()
    report = await suite_against(server, spec.profile, SKIP_RECONNECT, **spec.overrides)
    assert_verdicts(report, spec)
    assert_offsets(report, spec, server)
    assert_ended_in_time(report)
    assert report.exit_code() == (1 if spec.fails else 0)


@pytest.mark.parametrize("spec", GENERIC)
async def test_generic_profile_verdicts(suite_against: Judge, spec: Case) -> None:
    report = await suite_against(spec.make(), spec.profile, SKIP_RECONNECT, **spec.overrides)
    assert_verdicts(report, spec)
    assert_ended_in_time(report)
    assert report.exit_code() == (1 if spec.fails else 0)


@pytest.mark.parametrize("spec", KNOWN_GOOD)
async def test_known_good_server_passes(suite_against: Judge, spec: Case) -> None:
    server = spec.make()
    report = await suite_against(server, spec.profile, SKIP_RECONNECT, **spec.overrides)
    assert_verdicts(report, spec)
    assert_offsets(report, spec, server)
    assert_ended_in_time(report)
    assert report.exit_code() == 0


async def test_the_reference_itself_passes() -> None:
    """The real reference process (uvicorn, its own sampler) at a fast interval: no fail, no warn."""
    with server_process(["-m", "reference", "--interval", "0.05", "--log-level", "warning"]) as ref:
        report = await run_suite(f"{ref.base_url}/api/stream", fast_profile(interval=0.05))
    assert_verdicts(report, Case("reference", lambda: never_answer))
    assert report.exit_code() == 0
    assert len(report.capture.events) == 22


def test_sync_runner_with_threaded_server() -> None:
    """The sync API (CLI, pytest plugin) against a server in its own thread: no shared loop."""
    with threaded_sse_server(SseResponse()) as server:
        report = run_suite_sync(server.url, fast_profile())
    assert report.exit_code() == 0, describe(report)
    assert [e.data for e in report.capture.events][-1] == json.dumps(SENTINEL)


async def test_same_loop_server_works_with_the_runner() -> None:
    """``sse_server`` (the suite's own loop) is usable too, for tests that inspect server state."""
    async with sse_server(SseResponse()) as server:
        report = await run_suite(
            server.url, fast_profile(concurrency=2, disconnect_clients=2), skip=SKIP_RECONNECT
        )
    assert report.exit_code() == 0, describe(report)
    # main + 2 concurrent + 2 aborting + the follow-up: every client was served by this server
    assert server.state.connections == 6
    assert all(r.header("accept") == "text/event-stream" for r in server.state.requests)


async def test_redirect_to_another_origin_warns_without_cors() -> None:
    """Another port is another origin: a page on the first cannot read the stream without CORS."""
    with threaded_sse_server(GOOD) as other:
        with threaded_sse_server(redirect_to(other.url, 307)) as first:
            report = await run_suite(first.url, fast_profile(), skip=SKIP_RECONNECT)
        assert_verdicts(
            report, Case("cross-origin", lambda: GOOD, warns=frozenset({"http.redirect"}))
        )
        assert "another origin" in report.result("http.redirect").reason
        cors = (*GOOD.headers, ("Access-Control-Allow-Origin", "*"))
        open_server = dataclasses.replace(GOOD, headers=cors)
        with (
            threaded_sse_server(open_server) as open_other,
            threaded_sse_server(redirect_to(open_other.url, 307)) as first,
        ):
            report = await run_suite(first.url, fast_profile(), skip=SKIP_RECONNECT)
        assert_verdicts(report, Case("cross-origin-cors", lambda: GOOD))


CORE_FAMILIES = frozenset({"http", "framing", "payload", "stream", "browser"})


def test_every_check_is_proven_to_fire() -> None:
    """Each core check fails (MUST) or warns (SHOULD) against at least one server here.

    A check that no server trips is a check nobody has seen work; a new core check fails this
    test until a server with its defect joins the matrix. (Profile-specific families, such as
    ``openai.*``, are proven by their own tests in tests/integrations.)
    """
    from conformance.checks import all_checks

    specs = [p.values[0] for p in (*KNOWN_BAD, *KNOWN_GOOD, *GENERIC)]
    fired = set().union(*(s.fails | s.warns for s in specs)) | {"http.redirect"}  # test above
    fired.add("browser.eventsource")  # needs Chromium: fails and warns in e2e/test_suite_browser.py
    # proven against real servers elsewhere: tests/integrations/test_tls_h2.py (TLS, HTTP/1.1
    # only), tests/conformance/test_cors.py (a bearer header)
    fired |= {"http.version", "browser.plain-eventsource"}
    core = {c.id for c in all_checks() if c.id.split(".")[0] in CORE_FAMILIES}
    missing = core - fired
    assert not missing, f"no server makes these checks fire: {sorted(missing)}"


def test_hand_served_preset_through_the_cli() -> None:
    """``python -m testing.servers NAME`` + the real CLI: what a user trying it sees."""
    import subprocess
    import sys

    server = subprocess.Popen(
        [sys.executable, "-m", "testing.servers", "text-plain", "--interval", "0.02"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[1]
        cli = subprocess.run(
            [sys.executable, "-m", "conformance", url, "--interval", "0.02", "--no-color"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    assert cli.returncode == 1, cli.stdout + cli.stderr
    failing = [line for line in cli.stdout.splitlines() if "fail" in line.lower()]
    assert any("http.content-type" in line for line in failing), cli.stdout
    assert not any("payload." in line or "framing." in line for line in failing), cli.stdout
    assert set(presets(1.0)) >= {"good", "buffered", "never-answers", "wedges"}


STREAMED_FRAMINGS: tuple[Literal["chunked", "close"], ...] = ("chunked", "close")


@st.composite
def valid_streams(draw: st.DrawFn) -> SseResponse:
    """Any mix of the valid variations: framing, line endings, BOM, comments, ids, write sizes."""
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    boms = [b"", BOM] + ([BOM + b"\r\n"] if eol == b"\r\n" else [])
    framing = draw(st.sampled_from(STREAMED_FRAMINGS))
    splitter = draw(
        st.sampled_from([None, split_every(1), split_every(3), split_every(7), split_after_cr])
    )
    return SseResponse(
        eol=eol,
        bom=draw(st.sampled_from(boms)),
        framing=framing,
        version="HTTP/1.0" if framing == "close" and draw(st.booleans()) else "HTTP/1.1",
        comments=draw(st.booleans()),
        ids=draw(st.booleans()),
        retry=draw(st.sampled_from([None, 0, 3000])),
        splitter=splitter,
        space=draw(st.sampled_from([b" ", b""])),
        headers=draw(st.sampled_from([GOOD.headers, HEADERS_UTF8])),
        interval=0.01,
    )


@settings(max_examples=14, deadline=None, derandomize=True)
@given(server=valid_streams())
def test_any_combination_of_valid_variations_passes(server: SseResponse) -> None:
    """Combinations the hand-written cases do not cover (BOM + CR + byte-at-a-time + HTTP/1.0...)."""
    with threaded_sse_server(server) as running:
        report = run_suite_sync(
            running.url,
            fast_profile(interval=0.01, concurrency=1, disconnect_clients=1),
            skip=SKIP_RECONNECT,
        )
    assert_verdicts(report, Case("combination", lambda: server))


# One defect, layered on any valid variation: detection must not depend on framing or line endings.
LAYERED_DEFECTS: dict[str, tuple[dict[str, Any], frozenset[str]]] = {
    "text-plain": ({"headers": HEADERS_PLAIN}, frozenset({"http.content-type"})),
    "unterminated": (
        {"terminate_last": False},
        frozenset({"framing.terminated", "payload.count", "payload.sentinel"}),
    ),
    "no-sentinel": ({"transform": no_sentinel}, frozenset({"payload.count", "payload.sentinel"})),
    "not-json": ({"encode": plain_text}, frozenset({"payload.json"})),
    "event-type": ({"event_type": "ram"}, frozenset({"payload.event-type"})),
    "never-closes": ({"after_sentinel": "hang"}, frozenset({"stream.closes"})),
    "one-extra": ({"transform": one_extra}, frozenset({"payload.count", "payload.ram-format"})),
}


@settings(max_examples=14, deadline=None, derandomize=True)
@given(base=valid_streams(), defect=st.sampled_from(sorted(LAYERED_DEFECTS)))
def test_one_defect_on_any_valid_variation_fails_exactly(base: SseResponse, defect: str) -> None:
    changes, fails = LAYERED_DEFECTS[defect]
    server = dataclasses.replace(base, **changes)
    with threaded_sse_server(server) as running:
        report = run_suite_sync(
            running.url,
            fast_profile(interval=0.01, concurrency=1, disconnect_clients=1),
            skip=SKIP_RECONNECT,
        )
    assert_verdicts(report, Case(defect, lambda: server, fails=fails))
