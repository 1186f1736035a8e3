"""The reference against abusive clients (issue 16, points 10-12): raw sockets on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.reference.helpers import AppFactory, serve


async def raw_exchange(base: str, head: bytes, *, limit: float = 5.0) -> bytes:
    """Send ``head`` on a fresh connection and read until the server closes (or ``limit``)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head)
        await writer.drain()
        chunks = []
        async with asyncio.timeout(limit):
            while data := await reader.read(65536):
                chunks.append(data)
                if b"\r\n\r\n" in b"".join(chunks) and not head.startswith(b"GET /api/stream"):
                    break
        return b"".join(chunks)
    except TimeoutError:
        return b"".join(chunks)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.parametrize("value", [b" 5", b"5 ", b"\t5\t", b"  5  "])
async def test_last_event_id_whitespace_around_the_value_is_ignored(
    build: AppFactory, value: bytes
) -> None:
    """HTTP strips a field value's surrounding whitespace: all of these resume after 5."""
    built = build(samples=6)
    async with serve(built.app) as base:
        response = await raw_exchange(
            base,
            b"GET /api/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Last-Event-ID: " + value + b"\r\n\r\n",
        )
    assert status_of(response) == 200, response[:200]
    assert b"id: 6\n" in response
    assert b"id: 5\n" not in response


@pytest.mark.parametrize("path", [b"/static", b"/healthz/", b"/api/stream/"])
async def test_no_redirect_reflects_the_host_header(build: AppFactory, path: bytes) -> None:
    built = build()
    async with serve(built.app) as base:
        response = await raw_exchange(
            base,
            b"GET " + path + b" HTTP/1.1\r\nHost: evil.example\r\n"
            b"X-Forwarded-Host: evil2.example\r\nConnection: close\r\n\r\n",
        )
    assert b"evil" not in response.lower(), response[:300]
    if path == b"/static":
        assert status_of(response) == 307
        assert b"\r\nlocation: /static/\r\n" in response.lower()


async def test_allowed_hosts_refuse_any_other_host(build: AppFactory) -> None:
    built = build(samples=1, allowed_hosts=("ram.example", "127.0.0.1"))
    async with serve(built.app) as base:
        for path in (b"/", b"/api/stream", b"/static/", b"/healthz"):
            bad = await raw_exchange(
                base,
                b"GET " + path + b" HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            )
            assert status_of(bad) == 400, (path, bad[:200])
        good = await raw_exchange(
            base, b"GET /api/stream HTTP/1.1\r\nHost: ram.example\r\nConnection: close\r\n\r\n"
        )
        assert status_of(good) == 200
        assert b"RAM monitoring completed" in good


def test_allowed_hosts_setting_is_a_comma_list() -> None:
    from reference.settings import parse_settings

    settings = parse_settings(["--allowed-hosts", "Ram.Example, *.example.org,"], environ={})
    assert settings.allowed_hosts == ("ram.example", "*.example.org")
    assert parse_settings([], environ={}).allowed_hosts == ()


async def _huge_head(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[bytes, int]:
    """Send a request head of up to 100 MB of headers while reading the answer, as curl does;
    return the answer's first bytes (b"" if none within 5 s) and the bytes sent. Closes."""
    answer = asyncio.ensure_future(reader.read(4096))
    writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n")
    sent = 0
    try:
        while sent < 100_000_000 and not answer.done():  # bounded: 100 MB at most
            writer.write(b"X-Pad: " + b"a" * 65_000 + b"\r\n")
            await writer.drain()
            sent += 65_009
    except ConnectionError:
        pass
    try:
        async with asyncio.timeout(5):
            return await answer, sent
    except (ConnectionError, TimeoutError):
        return b"", sent
    finally:
        writer.close()


async def test_a_head_too_large_gets_431_and_the_server_stays_small(build: AppFactory) -> None:
    """100 MB of headers used to be read whole (four of them: +470 MB): refused at 16 KiB."""
    import psutil

    built = build(samples=1)
    me = psutil.Process()
    async with serve(built.app) as base:
        host, port = base.removeprefix("http://").split(":")
        before = me.memory_info().rss

        async def huge() -> bytes:
            reader, writer = await asyncio.open_connection(host, int(port))
            return (await _huge_head(reader, writer))[0]

        answers = await asyncio.gather(*(huge() for _ in range(4)))
        grown = me.memory_info().rss - before
    assert all(a.startswith(b"HTTP/1.1 431 ") for a in answers), [a[:60] for a in answers]
    assert grown < 50_000_000, grown
    assert built.app.state.hub.counters.requests == 0  # never reached the app


async def test_a_head_that_never_ends_is_closed_after_the_head_timeout(build: AppFactory) -> None:
    built = build(samples=1, head_timeout=0.5)
    async with serve(built.app) as base:
        host, port = base.removeprefix("http://").split(":")
        started = asyncio.get_running_loop().time()
        conns = [await asyncio.open_connection(host, int(port)) for _ in range(20)]
        for _, writer in conns:
            writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        async with asyncio.timeout(5):  # bounded: each read ends when the server closes
            ends = await asyncio.gather(*(reader.read() for reader, _ in conns))
        elapsed = asyncio.get_running_loop().time() - started
        for _, writer in conns:
            writer.close()
        # a normal request still works
        ok = await raw_exchange(
            base, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    assert ends == [b""] * 20
    assert elapsed < 3.0
    assert status_of(ok) == 200


def test_head_bounds_are_settings() -> None:
    from reference.settings import ConfigError, parse_settings

    settings = parse_settings(["--max-head-bytes", "4096", "--head-timeout", "2"], environ={})
    assert (settings.max_head_bytes, settings.head_timeout) == (4096, 2.0)
    for argv in (["--head-timeout", "nan"], ["--head-timeout", "0"], ["--max-head-bytes", "10"]):
        with pytest.raises(ConfigError):
            parse_settings(argv, environ={})


async def _answered_keep_alive(host: str, port: str) -> tuple[asyncio.StreamReader, Any]:
    """A connection that has had one good request answered and stays open (keep-alive)."""
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    async with asyncio.timeout(5):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"connection: close" not in head.lower()
    return reader, writer


async def test_a_later_head_on_a_keep_alive_connection_is_bounded_in_size(
    build: AppFactory,
) -> None:
    """The 16 KiB bound held for a connection's first head only; the second one was unbounded."""
    built = build(samples=1, max_head_bytes=16_384)
    async with serve(built.app) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await _answered_keep_alive(host, port)
        got, sent = await _huge_head(reader, writer)
    assert got.startswith(b"HTTP/1.1 431 "), got[:60]
    assert sent < 5_000_000, sent  # refused early, not after reading the whole head


async def test_a_later_head_that_never_ends_is_closed_after_the_head_timeout(
    build: AppFactory,
) -> None:
    """After one answered request, a head that never ends was held for as long as the client liked."""
    built = build(samples=1, head_timeout=0.5)
    async with serve(built.app) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await _answered_keep_alive(host, port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        try:
            async with asyncio.timeout(4):  # bounded: uvicorn's keep-alive timer is not running
                end = await reader.read()
        except TimeoutError:
            end = b"(still open)"
        elapsed = loop.time() - started
        writer.close()
    assert end == b""
    assert elapsed < 2.5, elapsed


async def test_keep_alive_requests_under_the_bounds_still_work(build: AppFactory) -> None:
    """Resetting the bounds per request must not refuse several good requests on one connection."""
    built = build(samples=1, head_timeout=0.5)
    async with serve(built.app) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await _answered_keep_alive(host, port)
        for _ in range(3):
            await asyncio.sleep(0.3)  # 0.9 s in all: longer than the head timeout, idle between
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            async with asyncio.timeout(5):
                head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), head[:60]
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
        writer.close()
