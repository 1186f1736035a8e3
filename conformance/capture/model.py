"""What one HTTP run of an SSE endpoint recorded: the data model every check reads.

Capture once, judge many: the stream is read once (like a browser's EventSource would: redirects
followed, the headers of :data:`BROWSER_HEADERS`), and everything a check may want
is kept: status, headers in order, redirects, raw chunks with arrival times, the events a browser
would dispatch with their arrival times, the parser's observations, and why the capture ended.

This module holds data only (no I/O, no HTTP client), so checks, profiles and reports can import it
without pulling in httpx; :mod:`conformance.capture.recorder` fills it from bytes and
:mod:`conformance.capture.http` from a socket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from conformance.capture.event_log import EventLog as EventLog
from conformance.capture.event_log import TimedEvent as TimedEvent
from conformance.parser import Event, Observation
from conformance.reprs import clipped


class EndReason(StrEnum):
    CLOSED = "closed"  # the server ended the response
    MAX_BYTES = "max-bytes"
    MAX_EVENTS = "max-events"
    DEADLINE = "deadline"
    IDLE_TIMEOUT = "idle-timeout"  # no byte for idle_timeout seconds after the headers
    FIRST_BYTE_TIMEOUT = "first-byte-timeout"  # connected, but no response headers in time
    CONNECT_TIMEOUT = "connect-timeout"
    CONNECT_ERROR = "connect-error"  # refused, unknown host, TLS failure...
    PROTOCOL_ERROR = "protocol-error"  # malformed HTTP, reset connection, truncated chunked body
    NOT_CLOSED_AFTER_SENTINEL = "not-closed-after-sentinel"
    ABORTED = "aborted"  # this client hung up on purpose (stream.disconnect's aborting clients)
    HELD = "held"  # --hold: an endless stream read for that long, then judged (not an error)
    DECODE_ERROR = "decode-error"  # the Content-Encoding cannot be undone (corrupt data)

    @property
    def unreachable(self) -> bool:
        """No TCP connection at all (the target is wrong, not broken). Never raises."""
        return self in (EndReason.CONNECT_ERROR, EndReason.CONNECT_TIMEOUT)

    @property
    def by_server(self) -> bool:
        """The server ended the body (cleanly or not): what it sent last is all it meant to send.
        Never raises."""
        return self in (EndReason.CLOSED, EndReason.PROTOCOL_ERROR)


@dataclass(frozen=True, slots=True)
class Limits:
    """Every wait and every buffer of a capture is bounded; each bound ends it with its own reason."""

    connect_timeout: float = 5.0
    first_byte_timeout: float = 10.0  # from connected to the response headers
    # Longest silence between body bytes: above stream.heartbeat's heartbeat_max (30 s), so the
    # capture never cuts a stream that keeps the heartbeat rule (sse-starlette pings every 15 s).
    idle_timeout: float = 45.0
    deadline: float = 60.0  # whole capture (without hold)
    # Read an endless stream for this long, then judge what arrived (end reason "held"); the
    # deadline then bounds only the wait for the response headers. None: read to the end.
    hold: float | None = None
    max_bytes: int = 16 * 1024 * 1024
    max_events: int = 10_000
    close_grace: float = 2.0  # how long the server may keep the stream open after the last event
    max_line_bytes: int = 8 * 1024 * 1024  # the parser drops the rest of a longer line


LEFT_MIN = 0.1  # seconds a late client gets however little is left (it still reports)


def limits_left(limits: Limits, elapsed: float) -> Limits:
    """The limits of a client that starts ``elapsed`` seconds into a run bounded by ``limits``:
    what is left of the deadline (of the hold, for a held run), and no timeout longer than that,
    so the run still ends on time whatever the server does. Never raises."""
    if limits.hold is not None:
        return dataclasses.replace(limits, hold=max(limits.hold - elapsed, LEFT_MIN))
    rest = max(limits.deadline - elapsed, LEFT_MIN)
    return dataclasses.replace(
        limits,
        deadline=rest,
        connect_timeout=min(limits.connect_timeout, rest),
        first_byte_timeout=min(limits.first_byte_timeout, rest),
        idle_timeout=min(limits.idle_timeout, rest),
    )


# What Chromium's EventSource sends by default (besides User-Agent, Accept-Language and cookies,
# which vary by browser profile): every coding it sends here, the Recorder decodes. A header of
# the same name in the request (``-H 'Accept-Encoding: identity'``) replaces it.
BROWSER_HEADERS: tuple[tuple[str, str], ...] = (
    ("Accept", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
)


@dataclass(frozen=True, slots=True, repr=False)
class CaptureRequest:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    last_event_id: str | None = None
    origin: str | None = None  # the page's origin: sent as ``Origin`` (a cross-origin EventSource)
    # TLS: an extra CA file (PEM) to trust, or no verification at all
    cacert: str | None = None
    insecure: bool = False

    def wire_headers(self) -> list[tuple[str, str]]:
        """What a browser's EventSource sends, then the user's headers (which override by name).
        Never raises."""
        base = list(BROWSER_HEADERS)
        if self.last_event_id is not None:
            base.append(("Last-Event-ID", self.last_event_id))
        if self.origin is not None:
            base.append(("Origin", self.origin))
        overridden = {name.lower() for name, _ in self.headers}
        return [h for h in base if h[0].lower() not in overridden] + list(self.headers)

    def __repr__(self) -> str:
        body = "None" if self.body is None else clipped(self.body)
        return f"CaptureRequest({self.method} {self.url!r}, body={body})"


@dataclass(frozen=True, slots=True, repr=False)
class Chunk:
    t: float  # seconds since the request started
    offset: int  # offset of its first byte in the decoded body
    data: bytes  # decoded (Content-Encoding undone), as a browser's parser sees it
    raw_total: int  # wire bytes of the body received so far (before decoding)

    def __repr__(self) -> str:
        return f"Chunk(t={self.t:.3f}, offset={self.offset}, data={clipped(self.data)})"


@dataclass(frozen=True, slots=True)
class Redirect:
    status: int
    url: str
    location: str
    headers: tuple[tuple[str, str], ...] = ()  # the hop's response headers (cors.origin reads them)

    def header(self, name: str) -> str | None:
        """The hop's header ``name`` (case-insensitive; several values joined with ", ", as Fetch
        reads them), or None. Never raises."""
        lname = name.lower()
        values = [v for k, v in self.headers if k.lower() == lname]
        return ", ".join(values) if values else None


@dataclass(repr=False)
class Capture:
    request: CaptureRequest
    end_reason: EndReason = EndReason.CLOSED
    end_message: str = ""
    url: str = ""  # final URL after redirects
    status: int | None = None
    reason_phrase: str = ""
    http_version: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    events: EventLog = field(default_factory=EventLog)  # compact columns (event_log.py)
    observations: list[Observation] = field(default_factory=list)
    observations_dropped: int = 0
    line_endings: dict[str, int] = field(default_factory=dict)
    first_line_ending: dict[str, int] = field(default_factory=dict)
    comments: int = 0
    retry: int | None = None
    # The EventSource's last event ID string when the capture ended: set at every blank line, so
    # an id-only block counts too (what a reconnecting browser sends as Last-Event-ID).
    last_event_id: str = ""
    longest_line: int = 0
    t_headers: float | None = None
    t_first_byte: float | None = None  # first body byte
    t_end: float = 0.0
    started_at: float = 0.0  # time.monotonic() at t = 0 (to line up with other clocks)
    t_last_event: float | None = None  # when the sentinel (or the expected last event) arrived
    raw_bytes: int = 0  # body bytes on the wire (compressed, if it was), every one counted
    content_encoding: str | None = None
    unknown_codings: list[str] = field(default_factory=list)  # passed through undecoded
    # Per coding, wire bytes after the end of its compressed data (Chromium ignores them: the
    # gzip members after the first).
    ignored_after_end: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.events, EventLog):  # a list built by hand: same events, compact
            self.events = EventLog(self.events)

    def __repr__(self) -> str:
        """A summary: a capture may hold a whole stream, never rendered (see conformance.reprs)."""
        return (
            f"Capture({self.url or self.request.url!r}, status={self.status}, "
            f"end={self.end_reason.value}, chunks={len(self.chunks)}, events={len(self.events)}, "
            f"raw_bytes={self.raw_bytes})"
        )

    @property
    def body(self) -> bytes:
        """The decoded body, joined (checks that scan it; prefer excerpt_at). Never raises."""
        return b"".join(c.data for c in self.chunks)

    @property
    def decoded_bytes(self) -> int:
        """Length of the decoded body. Never raises."""
        return sum(len(c.data) for c in self.chunks)

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None. Never raises."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        """Every value of a header (case-insensitive), in order. Never raises."""
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def excerpt_at(self, offset: int, length: int = 48) -> bytes:
        """Raw body bytes from ``offset`` (for evidence), without joining the whole body.
        Never raises."""
        out = bytearray()
        for chunk in self.chunks:
            end = chunk.offset + len(chunk.data)
            if end <= offset:
                continue
            start = max(0, offset - chunk.offset)
            out += chunk.data[start : start + length - len(out)]
            if len(out) >= length:
                break
        return bytes(out)


DEFAULT_LIMITS = Limits()
IsLast = Callable[[Event, int], bool]
OnChunk = Callable[[Capture], None]  # called after each body read, with the capture so far


class CaptureFn(Protocol):
    """A transport: reads one stream for ``request`` into a Capture, and never raises for network
    trouble (every end is an :class:`EndReason`). :func:`conformance.capture.http.capture` is the
    HTTP one (HTTP/1.1, or HTTP/2 when a TLS server offers it); a reconnecting client fits beside
    it with this signature, and the checks, which read only the Capture, do not change."""

    def __call__(
        self,
        request: CaptureRequest,
        limits: Limits = ...,
        *,
        is_last: IsLast | None = None,
        abort_after_events: int | None = None,
        progress: OnChunk | None = None,
    ) -> Awaitable[Capture]: ...
