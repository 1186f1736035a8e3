"""The reference against abusive clients (issue 16, points 10-12): raw sockets on loopback."""

from __future__ import annotations

import asyncio

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
