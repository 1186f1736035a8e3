"""A Locust 2.x user that holds one SSE stream at a time and reports delivery as request stats.

One machine's load generator stops somewhere; Locust's master/worker mode already spreads users
over many machines and merges their statistics, so instead of a home-made distributed system we
give Locust a user that measures what ``sse-conformance load`` measures. Each user loops: open a
stream (raw socket, gevent-cooperative under Locust), parse it with the suite's parser, and fire
one Locust request per observation, the figures ``sse-conformance load`` reports:

- ``SSE TTFT``: time from connect to the first event (one per stream);
- ``SSE ITL``: per event after the first, the gap since the previous event of the stream;
- ``SSE lateness``: with ``--sse-interval``, per event after the first, how late it came against
  the stream's cadence (the 1 Hz kind);
- ``SSE stream``: one per stream, a success when the server ended it normally, otherwise a
  failure named by kind (refused, reset, http-4xx, http-5xx, non-200, early-close, timeout,
  protocol, tls, other).

The request is the suite's: ``--sse-profile`` (``openai-chat``...) gives method, headers and
body, which ``--sse-method``, ``--sse-header`` and ``--sse-data`` replace; HTTPS is verified
(``--sse-cacert``, ``--sse-insecure``). Use it from a locustfile (``from
conformance.locust_user import SSEUser``) or point ``-f`` at this file; the target is
``--host`` plus ``--sse-path``.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

from locust import User, constant, events, task

from conformance.load.client import tls_context
from conformance.load.httpwire import HttpError, ResponseReader, build_request, parse_target
from conformance.load.stats import (
    ErrorKind,
    OnlineCadence,
    classify_eof,
    classify_exception,
    classify_status,
)
from conformance.parser import Parser

REQUEST_TYPE = "SSE"
ERROR_BACKOFF = 1.0


class SSEStreamError(Exception):
    """Why a stream failed; its text (kind: detail) is what Locust groups failures by."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind


def _add_arguments(parser: Any) -> None:
    group = parser.add_argument_group("SSE (conformance.locust_user)")
    group.add_argument("--sse-path", default="/api/stream", help="stream path under --host")
    group.add_argument(
        "--sse-interval",
        type=float,
        default=0.0,
        help="expected seconds between events: reports SSE lateness (0: none)",
    )
    group.add_argument(
        "--sse-timeout", type=float, default=10.0, help="connect/silence timeout (s)"
    )
    group.add_argument(
        "--sse-min-events", type=int, default=1, help="fewer events at close: early close"
    )
    group.add_argument("--sse-profile", default="", help="the suite's profile for the request")
    group.add_argument("--sse-method", default="", help="HTTP method (default: the profile's)")
    group.add_argument(
        "--sse-header", action="append", default=[], help="'Name: value' (replaces the profile's)"
    )
    group.add_argument("--sse-data", default="", help="request body (@FILE reads a file)")
    group.add_argument("--sse-cacert", default="", help="https: trust the CAs in this PEM file")
    group.add_argument(
        "--sse-insecure", action="store_true", help="https: do not verify the certificate"
    )


events.init_command_line_parser.add_listener(_add_arguments)  # type: ignore[no-untyped-call]


def request_options(options: Any) -> tuple[str, tuple[tuple[str, str], ...], bytes | None]:
    """(method, headers, body) from the ``--sse-*`` options through the suite's profiles and
    settings table; raises UsageError (ProfileError, SettingError) for bad values."""
    from conformance.profiles import profile_from_flags

    values = {
        "profile": getattr(options, "sse_profile", "") or None,
        "method": getattr(options, "sse_method", "") or None,
        "headers": list(getattr(options, "sse_header", []) or []),
        "body": getattr(options, "sse_data", "") or None,
    }
    profile = profile_from_flags(values)
    body = None if profile.body is None else profile.body.encode("utf-8")
    return profile.method, profile.headers, body


class SSEUser(User):
    """One open stream per user, re-opened when the server ends it."""

    wait_time = constant(0)
    path = "/api/stream"
    interval = 0.0
    timeout = 10.0
    min_events = 1
    method = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    tls: ssl.SSLContext | None = None

    def on_start(self) -> None:
        options = self.environment.parsed_options
        if options is not None:
            self.path = getattr(options, "sse_path", self.path)
            self.interval = float(getattr(options, "sse_interval", self.interval))
            self.timeout = float(getattr(options, "sse_timeout", self.timeout))
            self.min_events = int(getattr(options, "sse_min_events", self.min_events))
            self.method, self.headers, self.body = request_options(options)
            cacert = getattr(options, "sse_cacert", "") or None
            insecure = bool(getattr(options, "sse_insecure", False))
            if cacert or insecure:
                self.tls = tls_context(cacert=cacert, insecure=insecure)

    def _fire(
        self, name: str, response_time_ms: float, length: int = 0, exc: Exception | None = None
    ) -> None:
        self.environment.events.request.fire(
            request_type=REQUEST_TYPE,
            name=name,
            response_time=response_time_ms,
            response_length=length,
            exception=exc,
            context={},
        )

    @task
    def stream(self) -> None:
        url = (self.host or "").rstrip("/") + self.path
        try:
            target = parse_target(url)
        except ValueError as exc:
            self._fire("stream", 0.0, exc=SSEStreamError(ErrorKind.OTHER, str(exc)))
            time.sleep(ERROR_BACKOFF)
            return
        started = time.monotonic()
        received = 0
        try:
            received = self._run(target, started)
        except SSEStreamError as exc:
            self._fire("stream", (time.monotonic() - started) * 1000.0, received, exc)
            time.sleep(ERROR_BACKOFF)
            return
        self._fire("stream", (time.monotonic() - started) * 1000.0, received)

    def _run(self, target: Any, started: float) -> int:
        """Hold one stream until the server ends it; return the body bytes received."""
        reader = ResponseReader()
        parser = Parser()
        online = OnlineCadence(self.interval) if self.interval > 0 else None
        events = 0
        previous = 0.0
        body_bytes = 0
        sock: socket.socket | None = None
        try:
            try:
                sock = socket.create_connection((target.host, target.port), self.timeout)
                if target.scheme == "https":
                    context = self.tls or tls_context()
                    sock = context.wrap_socket(sock, server_hostname=target.host)
                sock.settimeout(self.timeout)
                request = build_request(
                    target, method=self.method, headers=self.headers, body=self.body
                )
                sock.sendall(request)
                while True:
                    data = sock.recv(65536)
                    now = time.monotonic()
                    if not data:
                        break
                    was_open = reader.head_done
                    body = reader.feed(data)
                    if not was_open and reader.head_done:
                        kind = classify_status(reader.status)
                        if kind is not None:
                            raise SSEStreamError(kind, f"HTTP {reader.status}")
                    body_bytes += len(body)
                    for _event in parser.feed(body) if body else ():
                        if not events:
                            self._fire("TTFT", (now - started) * 1000.0)
                        else:
                            self._fire("ITL", (now - previous) * 1000.0)
                        events += 1
                        previous = now
                        if online is not None:
                            late = online.arrive(now)
                            if late is not None:
                                self._fire("lateness", late * 1000.0)
                    if reader.complete:
                        break
            except SSEStreamError:
                raise
            except (OSError, HttpError, ssl.SSLError) as exc:
                raise SSEStreamError(
                    classify_exception(exc), f"{type(exc).__name__}: {exc}"
                ) from None
        finally:
            if sock is not None:
                sock.close()
        if not reader.head_done:
            raise SSEStreamError(ErrorKind.EARLY_CLOSE, "closed before the response head")
        parser.close()
        kind = classify_eof(events=events, truncated=reader.truncated, min_events=self.min_events)
        if kind is not None:
            raise SSEStreamError(kind, f"closed after {events} events")
        return body_bytes
