"""A new user's first run: errors that name the cause, one verdict for a web page or a 404,
report paths printed, --version, and ``decode ... | head`` exiting quietly (issue 14)."""

from __future__ import annotations

import contextlib
import io
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conformance import __version__
from conformance.capture.connect_errors import explain, host_port
from conformance.capture.http import capture
from conformance.capture.model import Capture, CaptureRequest, EndReason, Limits
from conformance.cli import main
from conformance.diagnosis import not_a_stream
from testing.support import free_port

FAST = Limits(connect_timeout=2, first_byte_timeout=2, idle_timeout=2, deadline=5, close_grace=0.5)
PAGE = (
    b"<!doctype html><html><head>"
    b'<link rel="alternate" type="text/event-stream" href="/api/stream">'
    b"</head><body>hi</body></html>"
)


class Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        if self.path in ("/", "/page"):
            body = PAGE if self.path == "/" else b"<html><body>plain page</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            body = b"not here"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


async def test_connection_refused_names_host_and_port() -> None:
    port = free_port()
    cap = await capture(CaptureRequest(f"http://127.0.0.1:{port}/api/stream"), FAST)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert cap.end_message == f"connection refused: is the server running on 127.0.0.1:{port}?"


async def test_tls_to_a_plain_http_port_says_try_http(site: str) -> None:
    cap = await capture(CaptureRequest(f"https://{site}/api/stream"), FAST)
    assert cap.end_reason is EndReason.CONNECT_ERROR
    assert cap.end_message == (
        f"TLS handshake failed: this port speaks plain HTTP: try http://{site}/api/stream"
    )


def test_cli_unreachable_says_the_url_once() -> None:
    port = free_port()
    code, out, err = cli(f"http://127.0.0.1:{port}/api/stream", "--connect-timeout", "1")
    assert code == 2
    assert out == ""
    assert err == (
        f"sse-conformance: error: cannot reach http://127.0.0.1:{port}/api/stream: "
        f"connection refused: is the server running on 127.0.0.1:{port}?\n"
    )


def test_explain_other_causes() -> None:
    dns = OSError("[Errno -2] Name or service not known")
    assert explain("http://nowhere.invalid/x", dns) == (
        "cannot resolve the host name of nowhere.invalid:80"
    )
    assert host_port("https://[::1]/x") == "[::1]:443"
    odd = RuntimeError("boom")
    assert explain("http://h:1/", odd) == "cannot connect to h:1: RuntimeError: boom"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (
            "/",
            "this is a web page (text/html), not an event stream: did you mean http://{site}/api/stream?",
        ),
        ("/page", "this is a web page (text/html), not an event stream"),
        ("/nothing", "not found (404), not an event stream"),
    ],
    ids=["page-naming-its-stream", "plain-page", "not-found"],
)
def test_a_web_page_or_404_is_one_fail(site: str, path: str, words: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code, out, _ = cli(f"http://{site}{path}", "--json-report", str(report))
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert fails == [f"FAIL  {words.format(site=site)}"]
    assert "framing." not in out  # no table of framing warnings about HTML
    assert "skip" not in out
    assert f"wrote JSON report: {report}" in out
    assert report.stat().st_size > 0


def test_not_a_stream_leaves_a_stream_alone() -> None:
    cap = Capture(request=CaptureRequest("http://h/"), url="http://h/")
    cap.status = 200
    cap.headers = [("content-type", "text/event-stream")]
    assert not_a_stream(cap) is None
    cap.status = None  # never connected: that is the unreachable path, not this one
    assert not_a_stream(cap) is None


def test_cli_lists_every_report_it_wrote(site: str, tmp_path: Path) -> None:
    paths = {name: tmp_path / "out" / name for name in ("r.json", "r.xml", "r.html")}
    code, out, _ = cli(
        f"http://{site}/page",
        "--json-report",
        str(paths["r.json"]),
        "--junit-xml",
        str(paths["r.xml"]),
        "--html-report",
        str(paths["r.html"]),
    )
    assert code == 1
    assert out.splitlines()[-3:] == [
        f"wrote JSON report: {paths['r.json']}",
        f"wrote JUnit XML: {paths['r.xml']}",
        f"wrote HTML report: {paths['r.html']}",
    ]


def test_version_comes_from_one_place() -> None:
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stdout(io.StringIO()) as out:
        main(["--version"])
    assert exit_info.value.code == 0
    assert out.getvalue() == f"sse-conformance {__version__}\n"
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject  # read from conformance/__init__.py by hatch


def test_decode_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    big = tmp_path / "body.txt"
    big.write_text("".join(f"data: {i}\n\n" for i in range(200_000)))
    decode = subprocess.Popen(
        [sys.executable, "-m", "conformance", "decode", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert decode.stdout is not None
    assert decode.stderr is not None
    decode.stdout.readline()
    decode.stdout.close()  # like `| head -1`
    assert decode.wait(30) == 0
    assert decode.stderr.read() == b""


def test_free_port_is_closed() -> None:
    """The refusal tests above rely on nothing listening on a fresh free port."""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", free_port()), 1).close()
