"""Hostile input (issue 16): what a user types or a server sends never makes the suite blame the
wrong party, hang, or render a capture by accident."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import struct
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from conformance.capture.model import Capture, CaptureRequest, Chunk, EventLog, TimedEvent
from conformance.cli import main
from conformance.errors import UsageError
from conformance.models import Report
from conformance.parser import Event
from conformance.profiles import load_profile
from conformance.reprs import run_quietly
from conformance.runner import run_suite_sync
from testing.rawhttp import Exchange, threaded_sse_server
from testing.sse_response import SseResponse

QUICK = ["--deadline", "5", "--idle-timeout", "2", "--close-grace", "0.5", "--only", "http.status"]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["-H", "X-A: 1\r\nX-Injected: 2"],
        ["--method", "GE T"],
        ["--last-event-id", "5\nX-Injected: 2"],
    ],
)
def test_a_request_the_client_refuses_is_a_usage_error_and_nothing_reaches_the_wire(
    argv: list[str],
) -> None:
    with threaded_sse_server(SseResponse()) as server:
        code, out, err = cli(server.url, *QUICK, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("sse-conformance: error: ")
    assert server.state.connections == 0
    assert server.state.requests == []


def test_a_binary_body_file_is_sent_byte_for_byte(tmp_path: Path) -> None:
    body = b"\x7fELF\x02\x01\xd0\xff\x00 end"
    path = tmp_path / "body.bin"
    path.write_bytes(body)
    with threaded_sse_server(SseResponse()) as server:
        code, out, _ = cli(server.url, *QUICK, "--method", "POST", "--data", f"@{path}")
    assert code == 0, out
    assert [r.body for r in server.state.requests] == [body]


def test_a_profile_file_with_an_unsendable_header_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[request]\nmethod = "get"\n[request.headers]\n"X-A" = "1\\r\\nX-B: 2"\n')
    with pytest.raises(UsageError, match="would split the request head"):
        load_profile(str(path))
    path.write_text('[request]\nmethod = "G T"\n')
    with pytest.raises(UsageError, match="not allowed in an HTTP token"):
        load_profile(str(path))


# -- 1. nothing renders a capture implicitly -------------------------------------------------


def _big_report(size: int) -> Report:
    body = b"data: " + b"x" * size + b"\n\n"
    cap = Capture(request=CaptureRequest("http://127.0.0.1:9/x", body=body), url="http://x/")
    cap.chunks = [Chunk(0.0, 0, body, len(body))]
    event = Event("message", "x" * size, "", 0, len(body))
    cap.events = EventLog([TimedEvent(event, 0.0, 0)])
    return Report("http://x/", load_profile("generic"), datetime.now(), 0.0, [], cap)


def test_the_repr_of_a_report_with_50_mb_of_body_is_short_and_fast() -> None:
    report = _big_report(50_000_000)
    started = time.perf_counter()
    texts = [repr(report), repr(report.capture), repr(report.capture.chunks), str(report)]
    texts.append(repr(report.capture.events))
    elapsed = time.perf_counter() - started
    assert max(len(t) for t in texts) < 1000, [t[:200] for t in texts]
    assert elapsed < 0.1
    assert "50000008 bytes" in repr(report.capture.chunks[0])  # the size, not the bytes


def test_a_run_renders_no_report_or_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.11's asyncio.run reprs its main task's result (see conformance.reprs)."""
    rendered: list[str] = []

    def spy(self: object) -> str:
        rendered.append(type(self).__name__)
        return "spy"

    for cls in (Report, Capture, Chunk, Event):
        monkeypatch.setattr(cls, "__repr__", spy)
    with threaded_sse_server(SseResponse()) as server:
        report = run_suite_sync(server.url, load_profile("generic"), only=["http.status"])
    assert report.capture.status == 200
    assert rendered == []


def test_run_quietly_hands_back_the_value_without_a_repr() -> None:
    class Loud:
        def __repr__(self) -> str:
            raise AssertionError("rendered")

    async def make() -> Loud:
        return Loud()

    assert isinstance(run_quietly(make()), Loud)


# -- 8. control characters from the server never reach a report raw ---------------------------

EVIL = "\x1b[31m\x07\x7f\u009b"
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


async def control_characters(ex: Exchange) -> None:
    """Controls (ESC, BEL, DEL, C1) in the status line, a header, the event type, id and data."""
    await ex.send(
        b"HTTP/1.1 200 OK\x1b[2J\r\nContent-Type: text/event-stream\r\n"
        b"X-Evil: a\x1b[31mb\x07c\x7fd\x9be\r\nConnection: close\r\n\r\n"
    )
    block = f"event: ev{EVIL}\nid: i{EVIL}\ndata: d{EVIL}\nretry: 1\x1b\nbogus\x1b: 1\n\n"
    await ex.send(block.encode())


def test_reports_show_control_characters_escaped_and_still_parse(tmp_path: Path) -> None:
    html, xml, js = tmp_path / "r.html", tmp_path / "r.xml", tmp_path / "r.json"
    with threaded_sse_server(control_characters) as server:
        code, out, err = cli(
            server.url,
            *("--deadline", "3", "--close-grace", "0.3", "--skip", "stream.*,reconnect.*"),
            *("--html-report", str(html), "--junit-xml", str(xml), "--json-report", str(js)),
        )
    assert code in (0, 1), out + err  # warnings (unknown field, event type): not the point here
    assert "\\x1b[31m\\x07\\x7f\\x9b" in out  # shown, as escapes
    for name, text in {"stdout": out, **{p.name: p.read_text() for p in (html, xml, js)}}.items():
        assert CONTROLS.search(text) is None, (name, CONTROLS.findall(text))
    ET.parse(xml)  # XML 1.0 cannot hold raw ESC: it parses because it has none
    data = json.loads(js.read_text())
    assert any(e["type"] == f"ev{EVIL}" for e in data["events"])  # the JSON keeps the value
    assert "<script" not in html.read_text().lower()


# -- 7. causes in one line ---------------------------------------------------------------------


async def reset_mid_stream(ex: Exchange) -> None:
    """Nine body bytes, then a TCP reset (SO_LINGER 0: the close sends RST, not FIN)."""
    await ex.send_head(200, [("Content-Type", "text/event-stream")])
    await ex.send(b"data: 1\n\n")
    await ex.pause(0.05)
    sock = ex._writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ex.abort()


def test_a_reset_says_connection_reset_after_n_bytes() -> None:
    with threaded_sse_server(reset_mid_stream) as server:
        report = run_suite_sync(server.url, load_profile("generic"), only=["http.status"])
    message = report.capture.end_message
    assert message == "connection reset by the server after 9 body bytes", message


def silent_tls_peer(answer: bytes) -> tuple[socket.socket, threading.Thread, threading.Event]:
    """A TCP server on loopback that accepts one connection and never completes a TLS handshake:
    it reads the ClientHello and sends ``answer`` (nothing, or a few bytes that are not a whole
    TLS record), then holds the connection until told to stop (bounded: 10 s at most)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(10)
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                if answer:
                    conn.sendall(answer)
                stop.wait(10)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread, stop


@pytest.mark.parametrize("answer", [b"", b"\x16\x03"], ids=["silent", "half-a-record-header"])
def test_a_tls_handshake_that_never_finishes_says_so(answer: bytes) -> None:
    listener, thread, stop = silent_tls_peer(answer)
    port = listener.getsockname()[1]
    try:
        code, out, err = cli(f"https://127.0.0.1:{port}/", *QUICK, "--connect-timeout", "1")
    finally:
        stop.set()
        thread.join(10)
        listener.close()
    assert (code, out) == (2, "")
    assert err.strip().endswith(
        f"TCP connection to 127.0.0.1:{port} opened but the TLS handshake did not finish within 1 s"
    ), err
