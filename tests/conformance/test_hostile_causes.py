"""One-line causes (issue 16, point 7): a redirect to a scheme EventSource does not fetch, to a
closed port, or in a loop names the hop, not the first URL; an https:// URL whose port does not
answer with TLS names what answered (plain HTTP, SSH, other bytes, a close, a reset)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import random
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator

from conformance.capture.connect_errors import explain
from conformance.capture.http import capture
from conformance.capture.model import Capture, CaptureRequest, EndReason, Limits
from conformance.capture.tls_probe import HelloAnswer, answer_to_hello, shared_answer_to_hello
from conformance.checks.context import CheckContext
from conformance.checks.http import redirect
from conformance.cli import main
from conformance.evidence import escape_excerpt
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


# --- TLS to a port that does not answer with TLS -------------------------------------------------
# OpenSSL says WRONG_VERSION_NUMBER for a plain-HTTP answer and for any other bytes that are not a
# TLS record alike: the cause is what a probe (one more connection, one ClientHello) read back.

Answer = Callable[[socket.socket, int], None]  # (accepted connection, its index from 0)

HTTP_400 = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
WRONG_VERSION_RECORD = b"\x16\x09\x09\x00\x04\xde\xad\xbe\xef"  # a handshake record, version 9.9
SSH_BANNER = b"SSH-2.0-OpenSSH_9.6\r\n"
NOISE = random.Random(16).randbytes(64)  # the same 64 bytes each run


def sends(data: bytes) -> Answer:
    """Read the ClientHello, answer ``data``, close."""

    def answer(conn: socket.socket, index: int) -> None:
        conn.recv(4096)
        conn.sendall(data)

    return answer


def closes(conn: socket.socket, index: int) -> None:
    """Read the ClientHello, close without a byte."""
    conn.recv(4096)


def resets(conn: socket.socket, index: int) -> None:
    """Close with the ClientHello unread and linger 0: a TCP reset, every time."""
    select.select([conn], [], [], 2.0)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@contextlib.contextmanager
def answering(answer: Answer, max_connections: int = 4) -> Iterator[int]:
    """A TCP server on 127.0.0.1 (its port yielded) that treats each connection with ``answer``
    then closes it: at most ``max_connections``, each given 2 s, the thread joined on exit."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)
    stop = threading.Event()

    def run() -> None:
        for index in range(max_connections):
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    conn, _ = server.accept()
                    break
            else:
                return
            with conn:
                conn.settimeout(2.0)
                with contextlib.suppress(OSError):
                    answer(conn, index)

    thread = threading.Thread(target=run, name="tls-answer-server", daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        server.close()
        assert not thread.is_alive()


def https_cause(answer: Answer, limits: Limits = QUICK) -> tuple[str, str]:
    with answering(answer) as port:
        url = f"https://127.0.0.1:{port}/feed"
        cap = grab_with(url, limits)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    return url, cap.end_message


def grab_with(url: str, limits: Limits) -> Capture:
    return asyncio.run(capture(CaptureRequest(url=url), limits))


def test_tls_to_a_plain_http_port_still_says_try_http() -> None:
    url, cause = https_cause(sends(HTTP_400))
    plain = url.replace("https://", "http://")
    assert cause == f"TLS handshake failed: this port speaks plain HTTP: try {plain}"


def test_a_record_of_another_version_is_not_called_plain_http() -> None:
    _, cause = https_cause(sends(WRONG_VERSION_RECORD))
    assert cause == (
        "TLS handshake failed: the peer answered the TLS ClientHello with 9 bytes that are not "
        "TLS: \\x16\\t\\t\\x00\\x04\\xde\\xad\\xbe\\xef"
    )


def test_random_bytes_are_quoted_at_most_32() -> None:
    _, cause = https_cause(sends(NOISE))
    assert cause == (
        "TLS handshake failed: the peer answered the TLS ClientHello with 64 bytes that are not "
        f"TLS: {escape_excerpt(NOISE, 32)}"
    )
    assert cause.endswith("…")


def test_a_long_answer_is_read_to_one_kib_only() -> None:
    _, cause = https_cause(sends(b"\x00" * 65536))
    assert cause.startswith(
        "TLS handshake failed: the peer answered the TLS ClientHello with at least 1024 bytes "
        "that are not TLS: \\x00\\x00"
    )


def test_an_ssh_server_is_named() -> None:
    _, cause = https_cause(sends(SSH_BANNER))
    assert cause == "TLS handshake failed: an SSH server answered: SSH-2.0-OpenSSH_9.6"


def test_a_close_during_the_handshake_says_so() -> None:
    _, cause = https_cause(closes)
    assert cause == "TLS handshake failed: the peer closed the connection during the TLS handshake"


def test_a_reset_during_the_handshake_says_so() -> None:
    _, cause = https_cause(resets)
    assert cause == "TLS handshake failed: the peer reset the connection during the TLS handshake"


def silent_probe(conn: socket.socket, index: int) -> None:
    """Garbage to the client's connection, then silence to the probe's until it hangs up."""
    conn.recv(4096)
    if index == 0:
        conn.sendall(NOISE)
    else:
        conn.recv(4096)  # the probe times out first and closes: b"" here


def test_the_probe_is_bounded_and_never_guesses() -> None:
    limits = dataclasses.replace(QUICK, connect_timeout=0.5)
    started = time.monotonic()
    url, cause = https_cause(silent_probe, limits)
    took = time.monotonic() - started
    plain = url.replace("https://", "http://")
    assert cause == (
        "TLS handshake failed: the answer to the TLS ClientHello is not TLS "
        f"(WRONG_VERSION_NUMBER): if this port speaks plain HTTP, try {plain}"
    )
    assert took < 1.5  # the probe's budget is the 0.5 s connect timeout


def test_the_cli_gives_the_cause_and_exit_2() -> None:
    with answering(sends(SSH_BANNER), max_connections=16) as port:
        url = f"https://127.0.0.1:{port}/feed"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([url, "--deadline", "5", "--connect-timeout", "2"])
    assert code == 2
    assert err.getvalue() == (
        f"sse-conformance: error: cannot reach {url}: "
        "TLS handshake failed: an SSH server answered: SSH-2.0-OpenSSH_9.6\n"
    )


def test_an_error_page_without_a_status_line_is_plain_http() -> None:
    # Python's http.server answers a line it cannot parse as HTTP/0.9 would: the page alone
    url, cause = https_cause(sends(b'<!DOCTYPE HTML>\n<html lang="en">\n<head>400</head></html>'))
    plain = url.replace("https://", "http://")
    assert cause == f"TLS handshake failed: this port speaks plain HTTP: try {plain}"


def test_clients_failing_together_share_one_probe() -> None:
    connections: list[int] = []

    def counted(conn: socket.socket, index: int) -> None:
        connections.append(index)
        sends(SSH_BANNER)(conn, index)

    async def five(port: int) -> list[HelloAnswer | None]:
        return list(
            await asyncio.gather(*(shared_answer_to_hello("127.0.0.1", port) for _ in range(5)))
        )

    with answering(counted) as port:
        answers = asyncio.run(five(port))
    assert connections == [0]
    # the SSH- prefix decides: nothing more is read (so the close is not seen)
    assert answers == [HelloAnswer(SSH_BANNER, closed=False)] * 5


def test_a_tls_answer_keeps_openssls_reason() -> None:
    alert = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    alert.reason = "WRONG_VERSION_NUMBER"
    tls_alert = HelloAnswer(b"\x15\x03\x03\x00\x02\x02\x46", closed=True)
    assert explain("https://h:1/", alert, tls_alert) == "TLS handshake failed: WRONG_VERSION_NUMBER"
    # a real TLS server refusing this TLS version is not "plain HTTP"
    old = ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version")
    old.reason = "TLSV1_ALERT_PROTOCOL_VERSION"
    assert explain("https://h:1/", old) == "TLS handshake failed: TLSV1_ALERT_PROTOCOL_VERSION"


def test_the_probe_reads_nothing_from_a_closed_port() -> None:
    assert asyncio.run(answer_to_hello("127.0.0.1", free_port(), 1.0)) is None
    assert asyncio.run(answer_to_hello("127.0.0.1", free_port(), 0.0)) is None


def test_a_redirect_to_an_ssh_port_probes_the_target() -> None:
    with answering(sends(SSH_BANNER)) as port:
        target = f"https://127.0.0.1:{port}/feed"
        with threaded_sse_server(redirecting_to(target)) as server:
            cap = grab(server.url)
    assert cap.end_message == (
        f"redirect from {server.url} to {target}: unreachable "
        "(TLS handshake failed: an SSH server answered: SSH-2.0-OpenSSH_9.6)"
    )
