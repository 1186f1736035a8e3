"""One-line causes for redirects that go nowhere (issue 16, point 7): a redirect to a scheme
EventSource does not fetch, to a closed port, or in a loop names the hop, not the first URL."""

from __future__ import annotations

import asyncio
import contextlib
import io

from conformance.capture.http import capture
from conformance.capture.model import Capture, CaptureRequest, EndReason, Limits
from conformance.checks.context import CheckContext
from conformance.checks.http import redirect
from conformance.cli import main
from conformance.models import OutcomeKind
from conformance.profiles import load_profile
from testing.rawhttp import Exchange, Handler, threaded_sse_server
from testing.support import free_port

QUICK = Limits(deadline=5.0, connect_timeout=2.0, first_byte_timeout=2.0, idle_timeout=1.0)


# Connection: close, as each connection of these servers serves one request (else the client may
# reuse one the server is closing: a reset instead of the cause under test)
CLOSE = ("Connection", "close")


def redirecting_to(location: str) -> Handler:
    async def handler(ex: Exchange) -> None:
        await ex.send_head(302, [("Location", location), ("Content-Length", "0"), CLOSE])

    return handler


def grab(url: str) -> Capture:
    return asyncio.run(capture(CaptureRequest(url=url), QUICK))


def test_a_redirect_to_another_scheme_is_refused_by_name() -> None:
    with threaded_sse_server(redirecting_to("ftp://127.0.0.1/feed")) as server:
        cap = grab(server.url)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert cap.end_message == (
        f"redirect from {server.url} to ftp://127.0.0.1/feed: refused "
        "(scheme ftp is not fetched by EventSource)"
    )


def test_a_redirect_to_a_file_url_is_refused_by_name() -> None:
    with threaded_sse_server(redirecting_to("file:///etc/passwd")) as server:
        cap = grab(server.url)
    assert cap.end_message == (
        f"redirect from {server.url} to file:///etc/passwd: refused "
        "(scheme file is not fetched by EventSource)"
    )


def test_a_redirect_to_a_closed_port_says_unreachable() -> None:
    closed = f"http://127.0.0.1:{free_port()}/feed"
    with threaded_sse_server(redirecting_to(closed)) as server:
        cap = grab(server.url)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert cap.end_message == (
        f"redirect from {server.url} to {closed}: unreachable (connection refused)"
    )


async def loop_a_b(ex: Exchange) -> None:
    """/a -> /b -> /a -> ... (bounded: the client stops after 20 redirects, as Fetch does)."""
    to = "/b" if ex.request.target.startswith("/a") else "/a"
    await ex.send_head(302, [("Location", to), ("Content-Length", "0"), CLOSE])


def test_a_redirect_loop_is_reported_with_its_hops() -> None:
    with threaded_sse_server(loop_a_b, path="/a") as server:
        cap = grab(server.url)
        hops = len(server.state.requests)
    base = server.url.removesuffix("/a")
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert cap.end_message.startswith(f"redirect loop: {base}/a -> {base}/b -> {base}/a"), (
        cap.end_message
    )
    assert "more than 20 redirects" in cap.end_message
    assert hops == 21  # the first request and 20 redirects followed, then a network error (Fetch)
    outcome = redirect(CheckContext(cap, load_profile("generic")))
    assert outcome.kind is OutcomeKind.PROBLEM
    assert outcome.reason.startswith(f"redirect loop: {base}/a -> {base}/b -> {base}/a")


def test_the_cli_names_the_hop_not_the_first_url() -> None:
    with threaded_sse_server(redirecting_to("ftp://127.0.0.1/feed")) as server:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([server.url, "--deadline", "5", "--only", "http.status"])
    assert code != 0
    assert err.getvalue() == (
        f"sse-conformance: error: redirect from {server.url} to ftp://127.0.0.1/feed: refused "
        "(scheme ftp is not fetched by EventSource)\n"
    )
