"""The capture against tiny raw asyncio servers: every limit ends it with its own reason, fast."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from conformance.capture.http import capture
from conformance.capture.model import Capture, CaptureRequest, EndReason, IsLast, Limits
from conformance.capture.recorder import replay

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
FAST = Limits(
    connect_timeout=2, first_byte_timeout=0.5, idle_timeout=0.5, deadline=3, close_grace=0.3
)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` on a free loopback port; yields the base URL. Requests are read first."""
    seen: list[bytes] = []
    tasks: set[asyncio.Task[None]] = set()

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run(
    handler: Handler, limits: Limits = FAST, is_last: IsLast | None = None
) -> tuple[Capture, float]:
    async with raw_server(handler) as url:
        loop = asyncio.get_running_loop()
        t = loop.time()
        cap = await capture(CaptureRequest(url + "/s"), limits, is_last=is_last)
        return cap, loop.time() - t


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(10)


async def one_event_then_silence(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(HEAD + chunk(b"data: a\n\n"))
    await writer.drain()
    await asyncio.sleep(10)


async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(HEAD)
    while True:
        writer.write(chunk(b"data: tick\n\n" * 50))
        await writer.drain()
        await asyncio.sleep(0.01)


async def sentinel_then_open(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(HEAD + chunk(b"data: a\n\ndata: END\n\n"))
    await writer.drain()
    await asyncio.sleep(10)


async def truncated_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(HEAD + chunk(b"data: a\n\n"))
    await writer.drain()


async def http10(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\r\rdata: b\r\r"
    )
    await writer.drain()


async def test_first_byte_timeout() -> None:
    cap, took = await run(never_answer)
    assert cap.end_reason is EndReason.FIRST_BYTE_TIMEOUT
    assert cap.status is None
    assert took < 2.5


async def test_idle_timeout_keeps_what_arrived() -> None:
    cap, took = await run(one_event_then_silence)
    assert cap.end_reason is EndReason.IDLE_TIMEOUT
    assert [e.data for e in cap.events] == ["a"]
    assert took < 2.5


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (Limits(deadline=0.6, idle_timeout=5), EndReason.DEADLINE),
        (Limits(max_bytes=20_000), EndReason.MAX_BYTES),
        (Limits(max_events=120), EndReason.MAX_EVENTS),
    ],
)
async def test_endless_stream_stops_at_each_limit(limits: Limits, reason: EndReason) -> None:
    cap, took = await run(endless, limits)
    assert cap.end_reason is reason
    assert took < 3
    if reason is EndReason.MAX_EVENTS:
        assert len(cap.events) >= 120


async def test_not_closed_after_sentinel() -> None:
    cap, took = await run(sentinel_then_open, is_last=lambda e, i: e.data == "END")
    assert cap.end_reason is EndReason.NOT_CLOSED_AFTER_SENTINEL
    assert cap.t_last_event is not None
    assert took < 2


async def test_truncated_chunked_body_is_a_protocol_error_with_its_events() -> None:
    cap, _ = await run(truncated_chunked)
    assert cap.end_reason is EndReason.PROTOCOL_ERROR
    assert [e.data for e in cap.events] == ["a"]


async def test_close_delimited_http10_body() -> None:
    cap, _ = await run(http10)
    assert cap.end_reason is EndReason.CLOSED
    assert cap.http_version == "HTTP/1.0"
    assert [e.data for e in cap.events] == ["a", "b"]


async def test_connect_error() -> None:
    async with raw_server(never_answer) as url:
        pass  # closed: nothing listens there any more
    cap = await capture(CaptureRequest(url), FAST)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert cap.end_reason.unreachable
    assert cap.end_message.startswith("connection refused: is the server running on 127.0.0.1:")


async def test_request_shape_redirect_and_gzip() -> None:
    requests: list[bytes] = []
    body = gzip.compress(b"data: zipped\n\n")

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # the raw server read the head already; the body follows
        if b"/old" in seen_heads[-1]:
            writer.write(
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
            )
        else:
            requests.append(await reader.readexactly(7))
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
        await writer.drain()

    seen_heads: list[bytes] = []

    async def recording(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen_heads.append(await reader.readuntil(b"\r\n\r\n"))
        await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(recording, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        request = CaptureRequest(
            f"http://127.0.0.1:{port}/old",
            method="POST",
            headers=(("X-Token", "t1"),),
            body=b'{"a":1}',
            last_event_id="41",
        )
        cap = await capture(request, FAST)
    finally:
        server.close()
    head = seen_heads[-1].decode().lower()
    assert head.startswith("post /new")
    for line in (
        "accept: text/event-stream",
        "cache-control: no-cache",
        "last-event-id: 41",
        "x-token: t1",
    ):
        assert line in head
    assert requests == [b'{"a":1}']
    assert [r.status for r in cap.redirects] == [307]
    assert cap.url.endswith("/new")
    assert cap.content_encoding == "gzip"
    assert [e.data for e in cap.events] == ["zipped"]
    assert cap.raw_bytes == len(body)
    assert cap.decoded_bytes == len(b"data: zipped\n\n")


async def test_errors_below_httpx_become_an_end_reason() -> None:
    cap = await capture(CaptureRequest("http://127.0.0.1:99999/"), FAST)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert "port must be" in cap.end_message


# --------------------------------------------------------------------------- decoding (issue 10 §5)


def test_the_request_carries_what_chromium_sends_and_user_headers_override_by_name() -> None:
    default = dict(CaptureRequest("http://x/").wire_headers())
    assert default["Accept"] == "text/event-stream"
    assert default["Cache-Control"] == "no-cache"
    assert default["Accept-Encoding"] == "gzip, deflate, br, zstd"
    own = CaptureRequest("http://x/", headers=(("accept-encoding", "identity"),)).wire_headers()
    assert [v for k, v in own if k.lower() == "accept-encoding"] == ["identity"]


BLOCKS = [b"data: %d\n\n" % i for i in range(50)]


def encoded(coding: str, body: bytes) -> bytes:
    import zlib

    import brotli

    if coding == "br":
        return bytes(brotli.compress(body))
    if coding == "zstd":
        from backports import zstd

        return bytes(zstd.compress(body))
    if coding == "deflate":
        return zlib.compress(body)
    return gzip.compress(body)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_replay_decodes_every_coding_chromium_decodes(coding: str) -> None:
    body = b"".join(BLOCKS)
    wire = encoded(coding, body)
    pieces = [(0.01 * i, wire[i : i + 7]) for i in range(0, len(wire), 7)]
    cap = replay(
        pieces, headers=[("content-type", "text/event-stream"), ("content-encoding", coding)]
    )
    assert cap.body == body
    assert len(cap.events) == 50
    assert cap.raw_bytes == len(wire)  # every wire byte, output or not
    assert cap.chunks[-1].raw_total <= len(wire)


def test_gzip_members_after_the_first_are_counted_not_decoded() -> None:
    first, second = gzip.compress(b"data: a\n\n"), gzip.compress(b"data: b\n\n")
    cap = replay(
        [(0.0, first), (0.1, second)],
        headers=[("content-type", "text/event-stream"), ("content-encoding", "gzip")],
    )
    assert [e.data for e in cap.events] == ["a"]
    assert cap.ignored_after_end == [("gzip", len(second))]
    assert cap.raw_bytes == len(first) + len(second)


def test_corrupt_body_ends_the_capture_with_decode_error() -> None:
    cap = replay(
        [(0.0, b"this is not brotli at all"), (0.1, b"data: x\n\n")],
        headers=[("content-type", "text/event-stream"), ("content-encoding", "br")],
    )
    assert cap.end_reason is EndReason.DECODE_ERROR
    assert "cannot decode" in cap.end_message
    assert cap.events == []


def test_unknown_coding_passes_the_raw_bytes_through() -> None:
    cap = replay(
        [(0.0, b"data: x\n\n")],
        headers=[("content-type", "text/event-stream"), ("content-encoding", "compress")],
    )
    assert cap.unknown_codings == ["compress"]
    assert [e.data for e in cap.events] == ["x"]


def test_max_bytes_bounds_the_decoded_body() -> None:
    bomb = gzip.compress(b"data: " + b"x" * 5_000_000 + b"\n\n")
    cap = replay(
        [(0.0, bomb)],
        headers=[("content-type", "text/event-stream"), ("content-encoding", "gzip")],
        limits=Limits(max_bytes=100_000),
    )
    assert cap.end_reason is EndReason.MAX_BYTES
    assert cap.end_message == "decompressed size exceeds 100000 bytes"
    assert 100_000 <= cap.decoded_bytes < 100_000 + 2 * 64 * 1024  # stopped within a piece
