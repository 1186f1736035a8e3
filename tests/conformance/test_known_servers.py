"""Known-bad and known-good servers against the suite (issue 3 §6), and the server toolkit itself.

The toolkit tests come first: the matrix is only as trustworthy as the servers are exactly what
they claim to be (the bytes, the framing, the timing, the cross-connection behaviour).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import zlib

import httpx
import pytest

from tests.conformance.servers import (
    SENTINEL,
    STARTING,
    SseResponse,
    encode_event,
    never_answer,
    ram_messages,
    redirect_to,
    routes,
    shared_generator,
    split_after_cr,
    split_every,
    sse_server,
    threaded_sse_server,
    wedge_after_abort,
)

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


def test_spec_replace_keeps_everything_else() -> None:
    good = SseResponse()
    bad = dataclasses.replace(good, headers=(("Content-Type", "text/plain"),))
    assert bad.interval == good.interval
    assert bad.framing == good.framing
    assert json.loads(expected_body(bad).split(b"\n")[0][6:]) == STARTING
