"""Servers written the way other ecosystems' SSE libraries write them (issue 10), byte for byte.

Each reproduces what an idiomatic server of a popular library sends, where the suite once said
something wrong: a brotli compressor (decoded as Chromium does, or buffering the stream), a
gzip body sent as several members, a server that serves one connection at a time (bottle on
wsgiref), a broadcast that ticks every few seconds. The byte-level idioms that a knob of
:class:`~testing.sse_response.SseResponse` can express (a ``retry:``-first block as Node.js
libraries send, django-eventstream's ``event: stream-open``, duplicate Content-Type headers) are
constants here, used with its ``inject`` and ``headers`` knobs.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterator

from testing.rawhttp import Exchange, Handler
from testing.sse_response import SseResponse

GOOD = SseResponse()

NODE_RETRY_FIRST = b"retry: 3000\n\n"  # sent first by default (two popular Node.js libraries)
DJANGO_STREAM_OPEN = b"event: stream-open\ndata:\n\n"  # django-eventstream's first block
DUPLICATE_CONTENT_TYPE_HTML_LAST = (
    ("Content-Type", "text/event-stream"),
    ("Content-Type", "text/html"),
    ("Cache-Control", "no-cache"),
)
DUPLICATE_CONTENT_TYPE_STREAM_LAST = (
    ("Content-Type", "text/html"),
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
)


async def _send_chunk(ex: Exchange, data: bytes) -> None:
    if data:
        await ex.send(b"%x\r\n%s\r\n" % (len(data), data))


async def _head(ex: Exchange, spec: SseResponse, coding: str) -> None:
    # Framed here (the Exchange compresses gzip itself when it sees that coding).
    await ex.send(
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in spec.headers)
        + f"Content-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )


def brotli_stream(spec: SseResponse = GOOD, *, flush: bool = True) -> Handler:
    """``Content-Encoding: br`` as a compression middleware sends it: flushed after every event
    (delivered on time), or, with ``flush=False``, as a compressor that holds events until it
    has enough to emit a block (the stream arrives in bursts, or at the end)."""
    import brotli

    async def handler(ex: Exchange) -> None:
        await _head(ex, spec, "br")
        compressor = brotli.Compressor()
        for index, block in enumerate(spec.blocks()):
            if index:
                await ex.pause(spec.interval)
            out = compressor.process(block)
            if flush:
                out += compressor.flush()
            await _send_chunk(ex, out)
        await _send_chunk(ex, compressor.finish())
        await ex.send(b"0\r\n\r\n")

    return handler


def gzip_members(spec: SseResponse = GOOD) -> Handler:
    """Every event its own gzip member (``gzip.compress`` per write): Chromium decodes the first
    member and ignores the rest, so the page sees one event and then silence."""

    async def handler(ex: Exchange) -> None:
        await _head(ex, spec, "gzip")
        for index, block in enumerate(spec.blocks()):
            if index:
                await ex.pause(spec.interval)
            await _send_chunk(ex, gzip.compress(block))
        await ex.send(b"0\r\n\r\n")

    return handler


def one_at_a_time(spec: SseResponse = GOOD) -> Handler:
    """A single-threaded server (bottle on wsgiref, a one-worker WSGI server): connections are
    accepted, but each waits until the one before it has been served to the end."""
    turn = asyncio.Lock()

    async def handler(ex: Exchange) -> None:
        async with turn:
            await spec(ex)

    return handler


def broadcast(period: float, spec: SseResponse = GOOD) -> Handler:
    """One ticker for every client, every ``period`` seconds (a chat or price feed): a client
    that connects between ticks waits up to ``period`` for its first event. Endless; each
    client gets the greeting at its first tick, then a sample per tick. The first tick comes
    ``first_tick`` after the first connection (so the first client's wait is known)."""
    first_tick = 0.1
    start: list[float] = []

    def next_tick() -> float:
        elapsed = time.monotonic() - start[0] + period - first_tick
        return period - (elapsed % period)

    async def handler(ex: Exchange) -> None:
        if not start:
            start.append(time.monotonic())
        await ex.send_head(200, spec.head())
        blocks: Iterator[bytes] = SseResponse(infinite=True).blocks()
        while True:
            await ex.pause(next_tick())
            await ex.send_body(next(blocks))

    return handler
