"""Sans-IO HTTP/1.1 for one streaming GET: the request bytes, the response head, the body framing.

A full HTTP client per stream costs too much when one core has to hold 10,000 streams; a stream
needs only one request line, the status and a few headers, and de-chunking. Keeping this free of
sockets lets the asyncio load client and the gevent-based Locust user share it, and lets tests
feed it bytes split at every position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNK_LINE_BYTES = 4096


class HttpError(Exception):
    """The server's bytes are not HTTP/1.1 we can follow (malformed head or chunk framing)."""


@dataclass(frozen=True, slots=True)
class LoadTarget:
    scheme: str
    host: str
    port: int
    path: str  # path plus query, never empty

    @property
    def is_loopback(self) -> bool:
        return self.host in {"localhost", "::1"} or self.host.startswith("127.")

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_target(url: str) -> LoadTarget:
    """Split an http(s) URL; raise ValueError with a sentence a person can act on."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise ValueError(f"no host in URL: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in URL: {url!r}") from exc
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return LoadTarget(parts.scheme, parts.hostname, port, path)


def build_request(
    target: LoadTarget,
    extra_headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
) -> bytes:
    """The request an ``EventSource`` would send (minus cookies), or a profile's POST, as bytes.

    ``headers`` (a profile's, in order) and then ``extra_headers`` replace the defaults of the
    same name, compared case-insensitively; a body gets its ``Content-Length``. Raises
    ValueError for a header name or value that would break the request's framing (CR or LF).
    """
    merged: dict[str, tuple[str, str]] = {}
    defaults = (
        ("Host", target.host_header),
        ("Accept", "text/event-stream"),
        ("Cache-Control", "no-cache"),
        ("User-Agent", "sse-conformance-load"),
    )
    for name, value in (*defaults, *headers, *(extra_headers or {}).items()):
        if any(c in name or c in value for c in "\r\n"):
            raise ValueError(f"header {name!r} contains a line break")
        merged[name.lower()] = (name, value)
    if body is not None:
        merged.pop("transfer-encoding", None)
        merged["content-length"] = ("Content-Length", str(len(body)))
    lines = [f"{method} {target.path} HTTP/1.1", *(f"{k}: {v}" for k, v in merged.values())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Framing(Enum):
    CHUNKED = "chunked"
    LENGTH = "content-length"
    CLOSE = "close-delimited"
    NONE = "no-body"


class _Chunk(Enum):
    SIZE = 0
    DATA = 1
    DATA_END = 2
    TRAILER = 3
    DONE = 4


@dataclass
class ResponseReader:
    """Feed raw bytes from the socket; get the body bytes back, de-chunked.

    ``head_done`` turns true once the status line and headers are in; ``complete`` once the body
    framing says the response is over (never for a close-delimited body: only EOF ends it).
    """

    status: int = 0
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names; repeats joined
    head_done: bool = False
    complete: bool = False
    framing: Framing = Framing.CLOSE
    _head: bytearray = field(default_factory=bytearray)
    _remaining: int = 0  # bytes left in the current chunk or the content-length body
    _chunk: _Chunk = _Chunk.SIZE
    _line: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> bytes:
        if self.head_done:
            if self.framing is Framing.CHUNKED and self._chunk is _Chunk.SIZE and not self._line:
                # Fastest path: the read is exactly one whole "SIZE\r\nDATA\r\n" chunk (one
                # event per write, the usual case): one slice, no list, no join.
                crlf = data.find(b"\r\n", 0, 18)
                if crlf > 0 and data.endswith(b"\r\n"):
                    try:
                        size = int(data[:crlf], 16)
                    except ValueError:
                        size = 0
                    if size > 0 and len(data) == crlf + size + 4:
                        return data[crlf + 2 : -2]
            return self._body(data)
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > MAX_HEAD_BYTES:
                raise HttpError(f"response head longer than {MAX_HEAD_BYTES} bytes")
            return b""
        rest = bytes(self._head[end + 4 :])
        self._parse_head(bytes(self._head[:end]))
        self._head = bytearray()
        return self._body(rest) if rest else b""

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpError(f"header line without a colon: {line[:80]!r}")
            key = name.strip().lower()
            value = value.strip()
            self.headers[key] = f"{self.headers[key]}, {value}" if key in self.headers else value
        self.head_done = True
        encoding = self.headers.get("transfer-encoding", "").lower()
        if self.status in (204, 304) or 100 <= self.status < 200:
            self.framing = Framing.NONE
            self.complete = True
        elif "chunked" in encoding:
            self.framing = Framing.CHUNKED
        elif "content-length" in self.headers:
            try:
                self._remaining = int(self.headers["content-length"])
            except ValueError as exc:
                raise HttpError(f"bad Content-Length: {self.headers['content-length']!r}") from exc
            self.framing = Framing.LENGTH
            self.complete = self._remaining == 0
        else:
            self.framing = Framing.CLOSE

    def _body(self, data: bytes) -> bytes:
        if self.framing is Framing.CLOSE:
            return data
        if self.framing is Framing.LENGTH:
            take = data[: self._remaining]
            self._remaining -= len(take)
            self.complete = self._remaining == 0
            return take
        if self.framing is Framing.NONE:
            return b""
        return self._dechunk(data)

    def _dechunk(self, data: bytes) -> bytes:
        out: list[bytes] = []
        pos = 0
        n = len(data)
        while pos < n and self._chunk is not _Chunk.DONE:
            if self._chunk is _Chunk.SIZE and not self._line:
                # Fast path: a whole "SIZE\r\nDATA\r\n" chunk in this read (the usual case of one
                # event per write); anything unusual falls through to the general state machine.
                crlf = data.find(b"\r\n", pos, pos + 18)
                if crlf > pos:
                    try:
                        size = int(data[pos:crlf], 16)
                    except ValueError:
                        size = 0
                    end = crlf + 2 + size
                    if size > 0 and data[end : end + 2] == b"\r\n":
                        out.append(data[crlf + 2 : end])
                        pos = end + 2
                        continue
            if self._chunk is _Chunk.DATA:
                take = min(self._remaining, n - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._chunk = _Chunk.DATA_END
                continue
            # SIZE, DATA_END and TRAILER states consume CRLF-terminated lines.
            nl = data.find(b"\n", pos)
            if nl < 0:
                self._line += data[pos:]
                if self._chunk is _Chunk.DATA_END and self._line.strip(b"\r"):
                    raise HttpError("chunk data not followed by CRLF")
                if len(self._line) > MAX_CHUNK_LINE_BYTES:
                    raise HttpError("chunk-size line too long")
                break
            self._line += data[pos:nl]
            pos = nl + 1
            line = bytes(self._line).rstrip(b"\r")
            self._line = bytearray()
            self._on_line(line)
        return b"".join(out)

    def _on_line(self, line: bytes) -> None:
        if self._chunk is _Chunk.DATA_END:
            if line:
                raise HttpError("chunk data not followed by CRLF")
            self._chunk = _Chunk.SIZE
        elif self._chunk is _Chunk.SIZE:
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise HttpError(f"bad chunk size: {line[:40]!r}") from exc
            if size < 0:
                raise HttpError(f"bad chunk size: {line[:40]!r}")
            if size == 0:
                self._chunk = _Chunk.TRAILER
            else:
                self._remaining = size
                self._chunk = _Chunk.DATA
        elif self._chunk is _Chunk.TRAILER and not line:
            self._chunk = _Chunk.DONE
            self.complete = True

    @property
    def truncated(self) -> bool:
        """At EOF: did the framing promise more bytes than arrived?"""
        return self.head_done and not self.complete and self.framing is not Framing.CLOSE
