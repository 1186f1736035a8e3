"""Capture over HTTP with httpx: one request, its redirects, the body read chunk by chunk.

HTTP/2 is offered (ALPN) on every TLS connection, as browsers do, and used when the server picks
it; plain ``http://`` is HTTP/1.1 (browsers never speak cleartext HTTP/2). The body is the same
bytes either way (h2 has no chunked framing: each read is what the DATA frames carried), so every
check judges an h2 stream as it judges an HTTP/1.1 one. TLS certificates are verified by default
(:func:`ssl_context`).

Nothing here raises to the caller for network trouble or a misbehaving server: every way a run can
end is an :class:`~conformance.capture.model.EndReason` with a one-line message, and every wait is
bounded by a :class:`~conformance.capture.model.Limits` value.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from conformance.capture.connect_errors import (
    FETCH_MAX_REDIRECTS,
    explain,
    host_port,
    not_tls_answer,
    redirect_failure,
    redirect_loop,
)
from conformance.capture.model import (
    DEFAULT_LIMITS,
    Capture,
    CaptureRequest,
    EndReason,
    IsLast,
    Limits,
    OnChunk,
    Redirect,
)
from conformance.capture.recorder import Recorder
from conformance.capture.tls_probe import PROBE_TIMEOUT, shared_answer_to_hello
from conformance.origins import redirect_tainted


@functools.cache
def ssl_context(cacert: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """The TLS context for one (cacert, insecure) pair, built once per process: building one loads
    the CA bundle (~60 ms, blocking the loop that is timing the streams).

    Verification is on unless ``insecure``. Trusted: ``SSL_CERT_FILE`` or else ``SSL_CERT_DIR``
    when set (as httpx reads them), else the system's trust store (certifi's bundle if the system
    has none), plus the CAs in ``cacert``. Raises OSError or ssl.SSLError when ``cacert`` cannot
    be loaded (the settings check the file first, so a run sees this only if it changed since).
    """
    if insecure:
        return httpx.create_ssl_context(verify=False)
    if os.environ.get("SSL_CERT_FILE"):
        ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    elif os.environ.get("SSL_CERT_DIR"):
        ctx = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    else:
        ctx = ssl.create_default_context()
        capath = ssl.get_default_verify_paths().capath
        has_dir = bool(capath and os.path.isdir(capath) and os.listdir(capath))
        if not ctx.cert_store_stats()["x509_ca"] and not has_dir:
            ctx = httpx.create_ssl_context(trust_env=False)  # certifi's bundle
    if cacert is not None:
        ctx.load_verify_locations(cafile=cacert)
    return ctx


@dataclass
class _Dial:
    """How far the connection of the latest hop got (httpcore's trace events): a connect timeout
    after the TCP connection opened is a TLS handshake that never finished."""

    connecting: str | None = None  # HOST:PORT being dialled
    tcp_open: str | None = None  # HOST:PORT once the TCP connection is open
    tls_started: bool = False
    tls_done: bool = False

    def note(self, name: str, info: Mapping[str, object]) -> None:
        """Record one of httpcore's trace events. Never raises."""
        if name == "connection.connect_tcp.started":
            self.connecting, self.tcp_open = _where(info), None
            self.tls_started = self.tls_done = False
        elif name == "connection.connect_tcp.complete":
            self.tcp_open = self.connecting or "the server"
        elif name == "connection.start_tls.started":
            self.tls_started = True
        elif name == "connection.start_tls.complete":
            self.tls_done = True

    def timeout_message(self, connect_timeout: float) -> str:
        """Why no connection came within ``connect_timeout``. Never raises."""
        if self.tcp_open is not None and self.tls_started and not self.tls_done:
            return (
                f"TCP connection to {self.tcp_open} opened but the TLS handshake did not finish "
                f"within {connect_timeout:g} s"
            )
        return f"no connection within {connect_timeout:g} s"


def _where(info: Mapping[str, object]) -> str | None:
    host, port = info.get("host"), info.get("port")
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or not isinstance(port, int):
        return None
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _HeadTimeout(Exception):
    def __init__(self, reason: EndReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def _send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    limits: Limits,
    now: Callable[[], float],
    dial: _Dial,
) -> httpx.Response:
    """``client.send`` with the first-byte timer started when the request has been sent (and how
    far each connection got noted in ``dial``).

    httpx's own timeouts cannot express "time from request sent to response headers" separately
    from the connect timeout, so httpcore's trace events start the timer (per redirect hop).
    """
    waiting_since: list[float] = []

    async def trace(name: str, info: Mapping[str, object]) -> None:
        dial.note(name, info)
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


def read_failure(exc: BaseException, received: int) -> str:
    """One line for an error while reading the body: a reset says so (httpx's ReadError has no
    text for it), with the body bytes received before it. Never raises."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(seen) < 10:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    if any(isinstance(e, ConnectionResetError) for e in seen) or (
        isinstance(exc, httpx.ReadError) and not str(exc)
    ):
        return f"connection reset by the server after {received} body bytes"
    return f"{type(exc).__name__}: {exc or 'no detail'}"


def warm_up(request: CaptureRequest | None = None) -> None:
    """Pay httpx's one-time costs (imports, h2, the request's TLS context) before any stream is
    timed. Never raises (it opens no connection; a CA file that cannot be loaded is reported by
    the capture itself)."""
    with contextlib.suppress(OSError, ssl.SSLError):
        verify = ssl_context() if request is None else ssl_context(request.cacert, request.insecure)
        httpx.AsyncClient(verify=verify, trust_env=False, http2=True)


def _redirects(response: httpx.Response) -> list[Redirect]:
    return [
        Redirect(
            r.status_code,
            str(r.url),
            r.headers.get("location", ""),
            tuple(r.headers.multi_items()),
        )
        for r in response.history
    ]


def _origin_hooks(request: CaptureRequest) -> list[Callable[[httpx.Request], Awaitable[None]]]:
    """httpx request hooks (each hop of a redirect chain passes through them) that send
    ``Origin: null`` once the chain is redirect-tainted, as a browser does (Fetch: "serializing a
    request origin"); none when the request carries no page origin. Never raises."""
    page = request.origin
    if page is None:
        return []
    urls: list[str] = []

    async def on_request(hop: httpx.Request) -> None:
        urls.append(str(hop.url))
        if redirect_tainted(urls, page):
            hop.headers["Origin"] = "null"

    return [on_request]


def _hops_redirects(hops: list[httpx.Response]) -> list[Redirect]:
    """The redirect responses among ``hops`` (every response head seen, in order)."""
    return [
        Redirect(
            r.status_code, str(r.url), r.headers.get("location", ""), tuple(r.headers.multi_items())
        )
        for r in hops
        if r.has_redirect_location
    ]


def _next_url(hop: httpx.Response) -> str:
    """Where a redirect response points (its Location resolved against its URL). Never raises."""
    location = str(hop.headers.get("location", ""))
    try:
        return urljoin(str(hop.url), location)
    except ValueError:
        return location


def hop_failure(
    hops: list[httpx.Response], exc: BaseException, cause: str | None = None
) -> str | None:
    """The cause when a redirect could not be followed (a loop, another scheme, a closed port),
    naming the hop instead of the first URL; None when no redirect was involved. Never raises."""
    redirects = [h for h in hops if h.has_redirect_location]
    if not redirects:
        return None
    last = redirects[-1]
    if isinstance(exc, httpx.TooManyRedirects):
        return redirect_loop([str(h.url) for h in redirects] + [_next_url(last)])
    # the Location as a browser resolves it (httpx's own request copies the host into file:///)
    return redirect_failure(str(last.url), _next_url(last), exc, cause)


async def _explained(
    url: str, hops: list[httpx.Response], exc: BaseException, limits: Limits, elapsed: float
) -> str:
    """:func:`explain` at the URL whose connection failed (a redirect's target after a redirect);
    when OpenSSL could not read the answer as TLS, what a probe read back, the probe bounded by
    the connect timeout and what is left of the deadline. Never raises."""
    redirects = [h for h in hops if h.has_redirect_location]
    where = _next_url(redirects[-1]) if redirects else url
    answer = None
    if not_tls_answer(where, exc):
        host, _, port = host_port(where).rpartition(":")
        budget = min(PROBE_TIMEOUT, limits.connect_timeout, limits.deadline - elapsed)
        if port.isdigit():
            answer = await shared_answer_to_hello(host.strip("[]"), int(port), budget)
    return explain(where, exc, answer)


def deadline_message(deadline: float) -> str:
    """Why a capture still open at its deadline ended, and what to do about it. Never raises."""
    return (
        f"still streaming at the {deadline:g} s deadline: an endless stream? "
        "judge it with --hold SECONDS (read that long, then judge what arrived)"
    )


async def _next_chunk(iterator: AsyncIterator[bytes]) -> bytes:
    return await iterator.__anext__()


async def capture(
    request: CaptureRequest,
    limits: Limits = DEFAULT_LIMITS,
    *,
    is_last: IsLast | None = None,
    abort_after_events: int | None = None,
    progress: OnChunk | None = None,
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

    dial = _Dial()
    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=None,
        write=limits.connect_timeout,
        pool=limits.connect_timeout,
    )
    try:
        verify = ssl_context(request.cacert, request.insecure)
    except (OSError, ssl.SSLError) as exc:
        end(EndReason.CONNECT_ERROR, f"cannot use --cacert {request.cacert}: {exc}")
        return cap
    hops: list[httpx.Response] = []  # every response head, redirects included (causes name the hop)

    async def seen(response: httpx.Response) -> None:
        hops.append(response)

    def failed(reason: EndReason, message: str, exc: BaseException, hop: bool = False) -> Capture:
        """End the capture; a failure after a redirect names the hop (and keeps the hops).
        ``hop``: ``message`` is already the cause at the hop that failed."""
        timeout = message if hop or reason is EndReason.CONNECT_TIMEOUT else None
        if (cause := hop_failure(hops, exc, timeout)) is not None:
            reason, message = EndReason.CONNECT_ERROR, cause
            cap.redirects = _hops_redirects(hops)
        end(reason, message)
        cap.t_end = now()
        return cap

    async with httpx.AsyncClient(
        event_hooks={"request": _origin_hooks(request), "response": [seen]},
        max_redirects=FETCH_MAX_REDIRECTS,
        follow_redirects=True,
        timeout=timeout,
        transport=transport,
        trust_env=False,
        verify=verify,
        http2=True,  # offered by ALPN on TLS only; the server decides
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
            response = await _send(client, http_request, limits, now, dial)
        except _HeadTimeout as exc:
            end(exc.reason, str(exc))
            cap.t_end = now()
            return cap
        except httpx.ConnectTimeout as exc:
            return failed(
                EndReason.CONNECT_TIMEOUT, dial.timeout_message(limits.connect_timeout), exc
            )
        except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            cause = await _explained(request.url, hops, exc, limits, now())
            return failed(EndReason.CONNECT_ERROR, cause, exc, hop=True)
        except httpx.LocalProtocolError as exc:  # refused before anything reached the wire
            return failed(EndReason.CONNECT_ERROR, f"bad request (nothing sent): {exc}", exc)
        except httpx.HTTPError as exc:
            return failed(EndReason.PROTOCOL_ERROR, f"{type(exc).__name__}: {exc}", exc)
        except Exception as exc:  # below httpx (sockets, DNS, TLS): still one line, no traceback
            cause = await _explained(request.url, hops, exc, limits, now())
            return failed(EndReason.CONNECT_ERROR, cause, exc, hop=True)

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


async def _read_body(
    cap: Capture,
    response: httpx.Response,
    recorder: Recorder,
    limits: Limits,
    now: Callable[[], float],
    end: Callable[[EndReason, str], None],
    abort_after_events: int | None,
    progress: OnChunk | None,
) -> None:
    # Raw wire bytes: the Recorder decodes them as Chromium does (httpx would decode only what
    # it knows, and a whole network read at once, before any size limit could apply).
    iterator = response.aiter_raw()
    while True:
        t = now()
        waits = {EndReason.IDLE_TIMEOUT: limits.idle_timeout}
        if limits.hold is not None:  # an endless stream: read for the hold, then judge
            waits[EndReason.HELD] = limits.hold - t
        else:
            waits[EndReason.DEADLINE] = limits.deadline - t
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
                EndReason.DEADLINE: deadline_message(limits.deadline),
                EndReason.HELD: f"held for {limits.hold or 0:g} s",
                EndReason.NOT_CLOSED_AFTER_SENTINEL: (
                    f"still open {limits.close_grace:g} s after the last expected event"
                ),
            }
            end(binding, messages[binding])
            return
        except (httpx.HTTPError, OSError, ValueError) as exc:
            end(EndReason.PROTOCOL_ERROR, read_failure(exc, cap.raw_bytes))
            return
        if not data:
            continue
        recorder.add(now(), data, response.num_bytes_downloaded)
        if progress is not None:
            progress(cap)
        if recorder.stop is not None:
            return  # max-bytes of decoded body, or a body that cannot be decoded
        if len(cap.events) >= limits.max_events:
            end(EndReason.MAX_EVENTS, f"{len(cap.events)} events read (limit {limits.max_events})")
            return
        if abort_after_events is not None and len(cap.events) >= abort_after_events:
            end(EndReason.ABORTED, f"this client hung up after {len(cap.events)} events")
            return
