"""One SSE stream as a bare asyncio ``Protocol``: no task, no StreamReader, no HTTP client.

At 10,000 streams per core every per-stream object and wake-up counts: a protocol callback per
read is the cheapest thing asyncio offers (a task per stream would add a coroutine frame and a
future per read). Each read is stamped with one clock call, de-chunked by ``httpwire`` and parsed
by the suite's sans-IO parser, so the load mode sees exactly the events a browser would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import time
from collections.abc import Callable
from typing import Protocol, cast

from conformance.load.httpwire import HttpError, LoadTarget, ResponseReader, build_request
from conformance.load.stats import (
    ErrorKind,
    classify_eof,
    classify_exception,
    classify_status,
    missing_between,
)
from conformance.parser import Parser

_LINGER_RESET = struct.pack("ii", 1, 0)


class StreamListener(Protocol):
    """What a pool of streams learns from each one (all times are ``time.monotonic()``)."""

    def stream_opened(self, stream: LoadStream) -> None: ...

    def stream_events(self, stream: LoadStream, now: float, count: int, first: bool) -> None:
        """``count`` events arrived in one read at ``now``; ``first``: the connection's first."""

    def stream_closed(self, stream: LoadStream) -> None: ...


class LoadStream(asyncio.Protocol):
    """The state of one connection; ``error`` is None while healthy and after a normal end."""

    __slots__ = (
        "arrivals",
        "closed",
        "connected_at",
        "detail",
        "ended_at",
        "endless",
        "error",
        "events",
        "first_event_at",
        "last_activity",
        "last_id",
        "listener",
        "min_events",
        "missing",
        "opened_at",
        "parser",
        "phase",
        "reader",
        "reported",
        "request",
        "retry_after",
        "started",
        "status",
        "transport",
    )

    def __init__(
        self,
        request: bytes,
        listener: StreamListener,
        *,
        started: float,
        min_events: int = 1,
        endless: bool = False,
    ) -> None:
        self.request = request
        self.listener = listener
        self.min_events = min_events
        self.endless = endless  # any close by the server is an early close
        self.started = started
        self.last_activity = started
        self.reader = ResponseReader()
        self.parser = Parser()
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.opened_at: float | None = None
        self.first_event_at: float | None = None
        self.ended_at: float | None = None
        self.arrivals: list[float] = []  # the pool trims it (bounded per stream)
        self.events = 0  # every event of the connection (arrivals may have been trimmed)
        self.retry_after: str | None = None  # the Retry-After header of a 429/503
        self.reported = 0  # arrivals already turned into lateness samples by the pool
        self.last_id = ""
        self.missing = 0
        self.error: ErrorKind | None = None
        self.phase = ""  # a timeout's phase: connect, head, first-event or idle
        self.connected_at: float | None = None
        self.detail = ""
        self.closed = False

    # asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not an asyncio.Transport subclass, but behaves as one)
        stream = self.transport = cast(asyncio.Transport, transport)
        self.connected_at = time.monotonic()
        sock = stream.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_activity = now
        reader = self.reader
        was_open = reader.head_done
        try:
            body = reader.feed(data)
        except HttpError as exc:
            self.fail(ErrorKind.PROTOCOL, str(exc))
            return
        if not was_open and reader.head_done:
            self.status = reader.status
            kind = classify_status(reader.status)
            if kind is not None:
                self.retry_after = reader.headers.get("retry-after")
                self.fail(kind, f"HTTP {reader.status}")
                return
            self.opened_at = now
            self.listener.stream_opened(self)
        if body:
            events = self.parser.feed(body)
            if events:
                # one listener call per read, not per event: at 100,000 events per second the
                # call is a large share of the cost; gaps and lateness come from ``arrivals``
                first = not self.events
                if first:
                    self.first_event_at = now
                self.events += len(events)
                arrivals = self.arrivals
                last_id = self.last_id
                for event in events:
                    arrivals.append(now)
                    event_id = event.last_event_id
                    if event_id != last_id:
                        if last_id:
                            self.missing += missing_between(last_id, event_id)
                        last_id = event_id
                self.last_id = last_id
                self.listener.stream_events(self, now, len(events), first)
        if reader.complete and not self.closed:
            self._finish_eof()

    def eof_received(self) -> bool:
        self._finish_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        if exc is not None:
            self._close(classify_exception(exc), f"{type(exc).__name__}: {exc}")
        else:
            self._finish_eof()

    # endings -----------------------------------------------------------------------------
    def _finish_eof(self) -> None:
        if self.closed:
            return
        if not self.reader.head_done:
            self._close(ErrorKind.EARLY_CLOSE, "closed before the response head")
            return
        self.parser.close()
        kind = classify_eof(
            events=self.events,
            truncated=self.reader.truncated,
            min_events=self.min_events,
            endless=self.endless,
        )
        detail = "" if kind is None else f"closed after {self.events} events"
        self._close(kind, detail)

    def fail(self, kind: ErrorKind, detail: str, phase: str = "") -> None:
        """End the stream as failed (the pool's sweeper uses this for timeouts, with their
        ``phase``: ``head``, ``first-event`` or ``idle``)."""
        if not self.closed:
            self.phase = phase
        self._close(kind, detail)

    @property
    def error_key(self) -> str:
        """The error's kind as counted: ``timeout:head`` when the phase is known."""
        if self.error is None:
            return ""
        return f"{self.error.value}:{self.phase}" if self.phase else self.error.value

    def _close(self, kind: ErrorKind | None, detail: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.error = kind
        self.detail = detail
        self.ended_at = time.monotonic()
        self._reset_transport()
        self.listener.stream_closed(self)

    def _reset_transport(self) -> None:
        """Close with a reset, not a FIN: at 10,000 streams that end and reconnect every ~21 s,
        closing normally would leave a TIME_WAIT socket per stream and use up ephemeral ports."""
        if self.transport is not None and not self.transport.is_closing():
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self.transport.abort()

    def abort(self) -> None:
        """End the run: drop the connection without reporting it to the listener."""
        self.closed = True
        self._reset_transport()


def tls_context(*, cacert: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """The client TLS context of a run: the system's CAs (or ``cacert``'s), hostname checked;
    ``insecure`` turns verification off (a self-signed staging endpoint). Built once per run:
    loading a CA bundle takes tens of milliseconds. Raises OSError or ssl.SSLError for a
    ``cacert`` that cannot be read or holds no certificate."""
    context = ssl.create_default_context(cafile=cacert)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def connect(
    stream: LoadStream,
    target: LoadTarget,
    *,
    connect_timeout: float,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Connect ``stream`` (which sends its request once connected); failures end up in the
    stream, never raised."""
    loop = asyncio.get_running_loop()
    factory: Callable[[], LoadStream] = lambda: stream  # noqa: E731
    context = ssl_context
    if target.scheme == "https" and context is None:
        context = tls_context()
    try:
        await asyncio.wait_for(
            loop.create_connection(
                factory,
                target.host,
                target.port,
                ssl=context if target.scheme == "https" else None,
            ),
            connect_timeout,
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        kind = classify_exception(exc)
        phase = "connect" if kind is ErrorKind.TIMEOUT else ""
        stream.fail(kind, f"connect: {type(exc).__name__}: {exc}", phase)


async def open_stream(
    target: LoadTarget,
    listener: StreamListener,
    *,
    connect_timeout: float,
    min_events: int = 1,
    extra_headers: dict[str, str] | None = None,
) -> LoadStream:
    """One stream, connected or failed; never raises for network errors."""
    stream = LoadStream(
        build_request(target, extra_headers),
        listener,
        started=time.monotonic(),
        min_events=min_events,
    )
    await connect(stream, target, connect_timeout=connect_timeout)
    return stream
