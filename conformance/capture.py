"""One HTTP run of an SSE endpoint, recorded in full so every check can judge the same evidence.

Capture once, judge many: the stream is read once (like a browser's EventSource would: redirects
followed, ``Accept: text/event-stream``, ``Cache-Control: no-cache``), and everything a check may want
is kept: status, headers in order, redirects, raw chunks with arrival times, the events a browser
would dispatch with their arrival times, the parser's observations, and why the capture ended.

Nothing here raises to the caller for network trouble or a misbehaving server: every way a run can
end is an :class:`EndReason` with a one-line message, and every wait is bounded by a limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from conformance.parser import Event, Observation, Parser


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

    @property
    def unreachable(self) -> bool:
        return self in (EndReason.CONNECT_ERROR, EndReason.CONNECT_TIMEOUT)

    @property
    def by_server(self) -> bool:
        """The server ended the body (cleanly or not): what it sent last is all it meant to send."""
        return self in (EndReason.CLOSED, EndReason.PROTOCOL_ERROR)


@dataclass(frozen=True, slots=True)
class Limits:
    """Every wait and every buffer of a capture is bounded; each bound ends it with its own reason."""

    connect_timeout: float = 5.0
    first_byte_timeout: float = 10.0  # from connected to the response headers
    idle_timeout: float = 15.0  # longest silence between body bytes
    deadline: float = 60.0  # whole capture
    max_bytes: int = 16 * 1024 * 1024
    max_events: int = 10_000
    close_grace: float = 2.0  # how long the server may keep the stream open after the last event
    max_line_bytes: int = 8 * 1024 * 1024  # the parser drops the rest of a longer line


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    last_event_id: str | None = None

    def wire_headers(self) -> list[tuple[str, str]]:
        """What a browser's EventSource sends, then the user's headers (which override by name)."""
        base = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]
        if self.last_event_id is not None:
            base.append(("Last-Event-ID", self.last_event_id))
        overridden = {name.lower() for name, _ in self.headers}
        return [h for h in base if h[0].lower() not in overridden] + list(self.headers)


@dataclass(frozen=True, slots=True)
class Chunk:
    t: float  # seconds since the request started
    offset: int  # offset of its first byte in the decoded body
    data: bytes  # decoded (Content-Encoding undone), as a browser's parser sees it
    raw_total: int  # wire bytes of the body received so far (before decoding)


@dataclass(frozen=True, slots=True)
class TimedEvent:
    event: Event
    t: float  # arrival time of the chunk that completed it
    index: int

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def data(self) -> str:
        return self.event.data

    @property
    def last_event_id(self) -> str:
        return self.event.last_event_id

    @property
    def offset(self) -> int:
        return self.event.offset


@dataclass(frozen=True, slots=True)
class Redirect:
    status: int
    url: str
    location: str


@dataclass
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
    events: list[TimedEvent] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    observations_dropped: int = 0
    line_endings: dict[str, int] = field(default_factory=dict)
    first_line_ending: dict[str, int] = field(default_factory=dict)
    comments: int = 0
    retry: int | None = None
    longest_line: int = 0
    t_headers: float | None = None
    t_first_byte: float | None = None  # first body byte
    t_end: float = 0.0
    started_at: float = 0.0  # time.monotonic() at t = 0 (to line up with other clocks)
    parser: Parser | None = field(default=None, repr=False, compare=False)  # its final state
    t_last_event: float | None = None  # when the sentinel (or the expected last event) arrived
    raw_bytes: int = 0  # body bytes on the wire (compressed, if it was)
    content_encoding: str | None = None

    @property
    def body(self) -> bytes:
        return b"".join(c.data for c in self.chunks)

    @property
    def decoded_bytes(self) -> int:
        return sum(len(c.data) for c in self.chunks)

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def excerpt_at(self, offset: int, length: int = 48) -> bytes:
        """Raw body bytes from ``offset`` (for evidence), without joining the whole body."""
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


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~60 ms, blocking the loop
    that is timing the streams), and every capture would otherwise build its own."""
    return httpx.create_ssl_context()


class _HeadTimeout(Exception):
    def __init__(self, reason: EndReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def _send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    limits: Limits,
    now: Callable[[], float],
) -> httpx.Response:
    """``client.send`` with the first-byte timer started when the request has been sent.

    httpx's own timeouts cannot express "time from request sent to response headers" separately
    from the connect timeout, so httpcore's trace events start the timer (per redirect hop).
    """
    waiting_since: list[float] = []

    async def trace(name: str, info: Mapping[str, object]) -> None:
        if name.endswith("receive_response_headers.started"):
            waiting_since.append(now())

    request.extensions["trace"] = trace
    task = asyncio.ensure_future(client.send(request, stream=True))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.02)
            if done:
                return task.result()
            t = now()
            if waiting_since and t - waiting_since[-1] > limits.first_byte_timeout:
                raise _HeadTimeout(
                    EndReason.FIRST_BYTE_TIMEOUT,
                    f"request sent, but no response headers within {limits.first_byte_timeout:g} s",
                )
            if t > limits.deadline:
                raise _HeadTimeout(
                    EndReason.DEADLINE,
                    f"no response headers before the {limits.deadline:g} s deadline",
                )
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups, for a one-line message."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def warm_up() -> None:
    """Pay httpx's one-time costs (imports, TLS context) before any stream is timed."""
    httpx.AsyncClient(verify=_ssl_context(), trust_env=False)


IsLast = Callable[[Event, int], bool]
ProgressFn = Callable[["Capture"], None]


def _redirects(response: httpx.Response) -> list[Redirect]:
    return [
        Redirect(r.status_code, str(r.url), r.headers.get("location", "")) for r in response.history
    ]


def _fill_from_parser(cap: Capture, parser: Parser) -> None:
    cap.observations = list(parser.observations)
    cap.observations_dropped = parser.observations_dropped
    cap.line_endings = dict(parser.line_endings)
    cap.first_line_ending = dict(parser.first_line_ending)
    cap.comments = parser.comments
    cap.retry = parser.retry
    cap.longest_line = parser.longest_line


async def _next_chunk(iterator: AsyncIterator[bytes]) -> bytes:
    return await iterator.__anext__()


async def capture(
    request: CaptureRequest,
    limits: Limits = Limits(),
    *,
    is_last: IsLast | None = None,
    abort_after_events: int | None = None,
    progress: ProgressFn | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Capture:
    """Read one stream to its end or to the first limit; never raises for network trouble.

    ``is_last(event, index)`` marks the event after which the server should close (the sentinel):
    the capture then waits at most ``close_grace`` for the close. ``abort_after_events`` makes this
    client hang up after that many events (end reason ``aborted``).
    """
    cap = Capture(request=request, url=request.url)
    recorder = Recorder(cap, limits, is_last)
    t0 = time.monotonic()  # reset once the client exists: its creation is not the server's time

    def now() -> float:
        return time.monotonic() - t0

    def end(reason: EndReason, message: str) -> None:
        cap.end_reason = reason
        cap.end_message = message

    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=None,
        write=limits.connect_timeout,
        pool=limits.connect_timeout,
    )
    async with httpx.AsyncClient(
        follow_redirects=True,
        timeout=timeout,
        transport=transport,
        trust_env=False,
        verify=_ssl_context(),
    ) as client:
        t0 = cap.started_at = time.monotonic()
        try:
            http_request = client.build_request(
                request.method, request.url, headers=request.wire_headers(), content=request.body
            )
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, TypeError) as exc:
            end(EndReason.CONNECT_ERROR, f"bad request: {exc}")
            return cap
        try:
            response = await _send(client, http_request, limits, now)
        except _HeadTimeout as exc:
            end(exc.reason, str(exc))
            cap.t_end = now()
            return cap
        except httpx.ConnectTimeout:
            end(EndReason.CONNECT_TIMEOUT, f"no connection within {limits.connect_timeout:g} s")
            cap.t_end = now()
            return cap
        except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            end(
                EndReason.CONNECT_ERROR,
                f"cannot connect to {request.url}: {exc or type(exc).__name__}",
            )
            cap.t_end = now()
            return cap
        except httpx.HTTPError as exc:
            end(EndReason.PROTOCOL_ERROR, f"{type(exc).__name__}: {exc}")
            cap.t_end = now()
            return cap
        except Exception as exc:  # below httpx (sockets, DNS, TLS): still one line, no traceback
            leaf = _leaf(exc)
            end(
                EndReason.CONNECT_ERROR,
                f"cannot connect to {request.url}: {type(leaf).__name__}: {leaf}",
            )
            cap.t_end = now()
            return cap

        cap.t_headers = now()
        cap.status = response.status_code
        cap.reason_phrase = response.reason_phrase
        cap.http_version = response.http_version
        cap.headers = list(response.headers.multi_items())
        cap.redirects = _redirects(response)
        cap.url = str(response.url)
        cap.content_encoding = response.headers.get("content-encoding")
        await _read_body(cap, response, recorder, limits, now, end, abort_after_events, progress)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(response.aclose(), 2.0)
    return recorder.finish(now())


class Recorder:
    """The sans-IO half of a capture: chunks in (with their times), events and stats out.

    The live capture and :func:`replay` share it, so checks see the same thing whether the bytes
    came from a socket or from a test.
    """

    def __init__(self, cap: Capture, limits: Limits, is_last: IsLast | None = None) -> None:
        self.cap = cap
        self.limits = limits
        self.is_last = is_last
        self.parser = Parser(max_line_bytes=limits.max_line_bytes)
        self.offset = 0

    def add(self, t: float, data: bytes, raw_total: int | None = None) -> None:
        cap = self.cap
        if cap.t_first_byte is None:
            cap.t_first_byte = t
        cap.raw_bytes = raw_total if raw_total is not None else cap.raw_bytes + len(data)
        cap.chunks.append(Chunk(t, self.offset, data, cap.raw_bytes))
        self.offset += len(data)
        for event in self.parser.feed(data):
            index = len(cap.events)
            cap.events.append(TimedEvent(event, t, index))
            if cap.t_last_event is None and self.is_last is not None and self.is_last(event, index):
                cap.t_last_event = t

    def finish(self, t_end: float) -> Capture:
        if self.cap.end_reason.by_server:
            self.parser.close()
        _fill_from_parser(self.cap, self.parser)
        self.cap.parser = self.parser
        self.cap.t_end = t_end
        return self.cap


def replay(
    chunks: Sequence[tuple[float, bytes]],
    *,
    status: int | None = 200,
    headers: Sequence[tuple[str, str]] = (("content-type", "text/event-stream"),),
    end_reason: EndReason = EndReason.CLOSED,
    end_message: str = "",
    t_end: float | None = None,
    is_last: IsLast | None = None,
    limits: Limits = Limits(),
    url: str = "http://replay.invalid/stream",
    http_version: str = "HTTP/1.1",
) -> Capture:
    """A Capture built from timed chunks without any I/O (tests, offline judging)."""
    cap = Capture(
        request=CaptureRequest(url),
        url=url,
        status=status,
        http_version=http_version,
        headers=list(headers),
        end_reason=end_reason,
        end_message=end_message,
        t_headers=0.0 if status is not None else None,
    )
    cap.content_encoding = cap.header("content-encoding")
    recorder = Recorder(cap, limits, is_last)
    for t, data in chunks:
        recorder.add(t, data)
    last_t = chunks[-1][0] if chunks else 0.0
    return recorder.finish(t_end if t_end is not None else last_t)


async def _read_body(
    cap: Capture,
    response: httpx.Response,
    recorder: Recorder,
    limits: Limits,
    now: Callable[[], float],
    end: Callable[[EndReason, str], None],
    abort_after_events: int | None,
    progress: ProgressFn | None,
) -> None:
    iterator = response.aiter_bytes()
    while True:
        t = now()
        waits = {
            EndReason.IDLE_TIMEOUT: limits.idle_timeout,
            EndReason.DEADLINE: limits.deadline - t,
        }
        if cap.t_last_event is not None:
            waits[EndReason.NOT_CLOSED_AFTER_SENTINEL] = cap.t_last_event + limits.close_grace - t
        binding = min(waits, key=lambda k: waits[k])
        try:
            data = await asyncio.wait_for(_next_chunk(iterator), max(0.0, waits[binding]))
        except StopAsyncIteration:
            end(EndReason.CLOSED, "the server closed the stream")
            return
        except TimeoutError:
            messages = {
                EndReason.IDLE_TIMEOUT: f"no byte for {limits.idle_timeout:g} s",
                EndReason.DEADLINE: f"still streaming at the {limits.deadline:g} s deadline",
                EndReason.NOT_CLOSED_AFTER_SENTINEL: (
                    f"still open {limits.close_grace:g} s after the last expected event"
                ),
            }
            end(binding, messages[binding])
            return
        except (httpx.HTTPError, OSError, ValueError) as exc:
            end(EndReason.PROTOCOL_ERROR, f"{type(exc).__name__}: {exc}")
            return
        if not data:
            continue
        recorder.add(now(), data, response.num_bytes_downloaded)
        if progress is not None:
            progress(cap)
        if recorder.offset >= limits.max_bytes:
            end(EndReason.MAX_BYTES, f"{recorder.offset} bytes read (limit {limits.max_bytes})")
            return
        if len(cap.events) >= limits.max_events:
            end(EndReason.MAX_EVENTS, f"{len(cap.events)} events read (limit {limits.max_events})")
            return
        if abort_after_events is not None and len(cap.events) >= abort_after_events:
            end(EndReason.ABORTED, f"this client hung up after {len(cap.events)} events")
            return


def parse_header_args(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``Name: value`` strings (the -H flag) to pairs; raises ValueError with a one-line reason."""
    out = []
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header {value!r} is not 'Name: value'")
        out.append((name.strip(), rest.strip()))
    return tuple(out)


def headers_from_mapping(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in mapping.items())
