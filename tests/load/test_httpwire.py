"""Sans-IO HTTP/1.1 reading for the load client: head, chunked, length and close framing."""

from __future__ import annotations

import pytest

from conformance.load.httpwire import (
    Framing,
    HttpError,
    ResponseReader,
    build_request,
    parse_target,
)

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
CHUNKED = HEAD + b"7\r\ndata: a\r\n1;ext=1\r\n\n\r\n9\r\ndata: bc\n\r\n0\r\nX-Trailer: 1\r\n\r\n"


def feed_split(raw: bytes, sizes: int) -> tuple[ResponseReader, bytes]:
    reader = ResponseReader()
    body = b"".join(reader.feed(raw[i : i + sizes]) for i in range(0, len(raw), sizes))
    return reader, body


def test_target_parsing() -> None:
    t = parse_target("http://127.0.0.1:8000/api/stream?x=1")
    assert (t.scheme, t.host, t.port, t.path, t.is_loopback) == (
        "http",
        "127.0.0.1",
        8000,
        "/api/stream?x=1",
        True,
    )
    assert parse_target("https://example.com").port == 443
    assert parse_target("https://example.com").path == "/"
    assert not parse_target("http://example.com/").is_loopback
    assert parse_target("http://localhost/").is_loopback
    assert parse_target("http://[::1]:9/").host_header == "[::1]:9"


@pytest.mark.parametrize("url", ["ftp://x/", "127.0.0.1:80", "http:///path", "http://h:99999/"])
def test_bad_targets(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        parse_target(url)


def test_request_bytes() -> None:
    raw = build_request(parse_target("http://127.0.0.1:8000/api/stream"), {"Last-Event-ID": "3"})
    assert raw.startswith(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    assert b"\r\nAccept: text/event-stream\r\n" in raw
    assert b"\r\nLast-Event-ID: 3\r\n" in raw
    assert raw.endswith(b"\r\n\r\n")
    assert b"Host: example.com\r\n" in build_request(parse_target("http://example.com/"))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_chunked_body_any_split(size: int) -> None:
    reader, body = feed_split(CHUNKED, size)
    assert reader.status == 200
    assert reader.framing is Framing.CHUNKED
    assert reader.headers["content-type"] == "text/event-stream"
    assert body == b"data: a\ndata: bc\n"
    assert reader.complete
    assert not reader.truncated


def test_chunked_truncated_at_eof() -> None:
    reader, _ = feed_split(CHUNKED[:-30], 4)
    assert not reader.complete
    assert reader.truncated


def test_close_delimited_body() -> None:
    reader, body = feed_split(
        b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: x\n\n", 3
    )
    assert reader.framing is Framing.CLOSE
    assert body == b"data: x\n\n"
    assert not reader.complete
    assert not reader.truncated  # only EOF ends it, and that is normal


def test_content_length_body() -> None:
    reader, body = feed_split(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ndata: x\n\nEXTRA", 4)
    assert body == b"data: x\n\n"
    assert reader.complete


def test_non_200_and_204() -> None:
    reader = ResponseReader()
    reader.feed(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}"
    )
    assert (reader.status, reader.reason, reader.headers["retry-after"]) == (
        503,
        "Service Unavailable",
        "1",
    )
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert reader.complete
    assert reader.framing is Framing.NONE


def test_repeated_headers_are_joined() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\n\r\n")
    assert reader.headers["vary"] == "a, b"


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        HEAD + b"zz\r\n",
        HEAD + b"-1\r\n",
        HEAD + b"2\r\nabXY",
    ],
)
def test_malformed_responses_raise(raw: bytes) -> None:
    with pytest.raises(HttpError):
        ResponseReader().feed(raw)


def test_endless_head_is_bounded() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    for _ in range(64):
        reader.feed(b"X-Pad: " + b"a" * 1000 + b"\r\n")
    with pytest.raises(HttpError, match="longer than"):
        reader.feed(b"X-Pad: " + b"a" * 1000 + b"\r\n")
