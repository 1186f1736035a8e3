"""The CLI: exit codes, one-line errors, report files, --list-checks, decode, load dispatch."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conformance import checks
from conformance.cli import build_parser, main
from conformance.profiles import profile_from_flags
from conformance.reports.text import render_catalogue_markdown
from testing.support import free_port
from tests.conformance.suite_helpers import frame, ram_messages

ROOT = Path(__file__).resolve().parents[2]
FAST = [
    "--profile",
    "ram-monitor",
    "--interval",
    "none",
    "--deadline",
    "5",
    "--idle-timeout",
    "2",
    "--close-grace",
    "0.5",
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # close-delimited bodies: no chunk framing to write by hand
    routes: ClassVar[dict[str, tuple[list[tuple[str, str]], list[bytes]]]] = {}

    def do_GET(self) -> None:
        headers, blocks = self.routes[self.path]
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            for block in blocks:
                self.wfile.write(block)
                self.wfile.flush()
                time.sleep(0.002)
        except OSError:
            pass  # stream.disconnect's clients hang up on purpose

    def log_message(self, format: str, *args: object) -> None:
        pass


GOOD = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
Handler.routes = {
    "/good": (GOOD, frame(ram_messages())),
    "/plain": (
        [("Content-Type", "text/plain"), ("Cache-Control", "no-cache")],
        frame(ram_messages()),
    ),
    "/nocache": ([("Content-Type", "text/event-stream")], frame(ram_messages())),
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_default_profile_is_generic(base: str) -> None:
    """Any endpoint: no application contract unless a profile asks for one."""
    code, out, _ = cli(f"{base}/good", *FAST[2:], "--only", "http.*,payload.*")
    assert code == 0, out
    assert "profile=generic" in out.splitlines()[0]
    ram_format = next(line for line in out.splitlines() if line.startswith("payload.ram-format"))
    assert ram_format.split()[1] == "skip"


def test_exit_0_on_a_good_stream(base: str) -> None:
    code, out, err = cli(f"{base}/good", *FAST)
    assert code == 0, out
    assert "-> exit 0" in out
    assert err == ""  # no progress line when stderr is not a TTY


def test_exit_1_on_a_fail_with_reason_and_evidence(base: str, tmp_path: Path) -> None:
    xml_path = tmp_path / "j.xml"
    code, out, _ = cli(f"{base}/plain", *FAST, "--junit-xml", str(xml_path), "--only", "http.*")
    assert code == 1
    assert "http.content-type" in out
    assert "FAIL" in out
    assert "@http: content-type: text/plain" in out
    suite = ET.parse(xml_path).getroot()[0]
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {c.id for c in checks.select(["http.*"])}
    failure = cases["http.content-type"].find("failure")
    assert failure is not None
    assert "text/plain" in (failure.text or "")
    assert cases["http.redirect"].find("skipped") is not None
    assert suite.get("failures") == "1"


def test_warnings_pass_unless_strict(base: str, tmp_path: Path) -> None:
    xml_path = tmp_path / "j.xml"
    args = (f"{base}/nocache", *FAST, "--only", "http.*,framing.*")
    code, _, _ = cli(*args, "--junit-xml", str(xml_path))
    assert code == 0
    case = next(
        c
        for c in ET.parse(xml_path).getroot().iter("testcase")
        if c.get("name") == "http.cache-control"
    )
    assert case.find("failure") is None
    assert "WARNING" in (case.findtext("system-out") or "")
    code, _, _ = cli(*args, "--strict", "--junit-xml", str(xml_path))
    assert code == 1
    case = next(
        c
        for c in ET.parse(xml_path).getroot().iter("testcase")
        if c.get("name") == "http.cache-control"
    )
    assert case.find("failure") is not None


def test_progress_line_on_request(base: str) -> None:
    code, _, err = cli(f"{base}/good", *FAST, "--only", "payload.count", "--progress")
    assert code == 0
    assert "events" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--bogus-flag"], "unrecognized arguments"),
        (["ftp://example.com/x"], "must start with http://"),
        (["http://"], "has no host"),
        (["http://127.0.0.1:99999/"], "port is out of range"),
        (["http://[::1/"], "invalid URL"),
        ([], "a URL is required"),
        (["http://127.0.0.1:9/x", "--profile", "nope"], "unknown profile 'nope'"),
        (["http://127.0.0.1:9/x", "--profile", "/nonexistent/p.toml"], "cannot read profile"),
        (["http://127.0.0.1:9/x", "--only", "nothing.*"], "no check matches 'nothing.*'"),
        (["http://127.0.0.1:9/x", "--data-format", "xml"], "invalid choice"),
        (["http://127.0.0.1:9/x", "--deadline", "-1"], "must be > 0"),
        (["http://127.0.0.1:9/x", "-H", "no colon"], "is not 'Name: value'"),
        (["http://127.0.0.1:9/x", "--body", "@/nonexistent/body"], "cannot read body file"),
        (["http://127.0.0.1:9/x", "--deadline", "nan"], "must be a finite number"),
        (["http://127.0.0.1:9/x", "--idle-timeout", "inf"], "must be a finite number"),
        # local request errors: refused before anything is sent, the user's mistake (issue 16)
        (["http://127.0.0.1:9/x", "-H", "X-A: a\r\nX-B: b"], "would split the request head"),
        (["http://127.0.0.1:9/x", "-H", "Bad Name: 1"], "not allowed in an HTTP token"),
        (["http://127.0.0.1:9/x", "-H", "X-A: caf\u00e9"], "sent as ASCII"),
        (["http://127.0.0.1:9/x", "--method", "GE T"], "method 'GE T'"),
        (["http://127.0.0.1:9/x", "--last-event-id", "1\r\n2"], "would split the request head"),
        (["http://127.0.0.1:9/x", "--last-event-id", "1\x002"], "would split the request head"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv: list[str], words: str) -> None:
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("sse-conformance: error: ")
    assert words in err


def test_unreachable_target_exit_2() -> None:
    code, _, err = cli("http://127.0.0.1:9/stream", "--connect-timeout", "1")
    assert code == 2
    assert err.count("\n") == 1
    assert "cannot reach" in err


def test_bad_profile_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("expect_count = [\n")
    code, _, err = cli("http://127.0.0.1:9/x", "--profile", str(bad))
    assert code == 2
    assert "not valid TOML" in err
    bad.write_text("expect_cuont = 3\n")
    code, _, err = cli("http://127.0.0.1:9/x", "--profile", str(bad))
    assert "unknown profile key(s): expect_cuont" in err


def test_list_checks_and_docs_are_up_to_date() -> None:
    code, out, _ = cli("--list-checks")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()]
    required = [
        "http.status",
        "http.content-type",
        "http.cache-control",
        "http.content-encoding",
        "http.content-length",
        "framing.utf8",
        "framing.terminated",
        "framing.fields",
        "framing.retry",
        "framing.id",
        "framing.dispatch",
        "payload.count",
        "payload.sentinel",
        "payload.json",
        "payload.event-type",
        "payload.ram-format",
        "stream.first-event",
        "stream.incremental",
        "stream.cadence",
        "stream.closes",
        "stream.concurrent",
        "stream.disconnect",
        "browser.charset",
        "browser.bom-line-end",
    ]
    assert set(required) <= set(ids)
    docs = ROOT / "docs" / "checks.md"
    expected = render_catalogue_markdown(checks.all_checks()) + "\n"
    assert docs.read_text(encoding="utf-8") == expected, (
        "docs/checks.md is stale: python -m conformance.cli --list-checks --markdown > docs/checks.md"
    )


def test_decode_file_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b"\xef\xbb\xbfdata: a\r\n\r\nid: 7\nevent: add\ndata: b\ndata: c\n\ndata: lost"
    path = tmp_path / "s.bin"
    path.write_bytes(raw)
    code, out, _ = cli("decode", str(path))
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"type": "message", "data": "a", "last_event_id": ""},
        {"type": "add", "data": "b\nc", "last_event_id": "7"},
    ]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out2, _ = cli("decode", "-")
    assert (code, out2) == (0, out)
    code, _, err = cli("decode", "--observations", str(path))
    assert "trailing-partial @" in err
    code, _, err = cli("decode", str(tmp_path / "missing.bin"))
    assert code == 2
    assert err.startswith("sse-conformance: error: cannot read")


def test_load_dispatch_without_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "conformance.load.cli", None)
    code, _, err = cli("load", "http://127.0.0.1:9/x")
    assert code == 2
    assert "load mode is not available" in err


def test_profile_from_args_merges_flags_into_the_profile() -> None:
    args = build_parser().parse_args(
        [
            "http://x.invalid/",
            "--profile",
            "ram-monitor",
            "--expect-count",
            "none",
            "--interval",
            "0.2",
            "-H",
            "X-A: 1",
            "-H",
            "cache-control: max-age=0",
            "--sentinel",
            "",
            "--event-type",
            "*",
        ]
    )
    profile = profile_from_flags(vars(args))
    assert profile.expect_count is None
    assert profile.interval == 0.2
    assert profile.sentinel is None
    assert profile.event_type is None
    assert ("X-A", "1") in profile.headers
    request = profile.capture_request("http://x.invalid/")
    assert [v for k, v in request.wire_headers() if k.lower() == "cache-control"] == ["max-age=0"]
    # a minimal mapping (another front end) works too: missing or None means "not given"
    assert profile_from_flags({"profile": "generic", "deadline": None}).name == "generic"


def test_save_body_replays_with_decode(base: str, tmp_path: Path) -> None:
    body = tmp_path / "body.bin"
    code, _, _ = cli(f"{base}/good", *FAST, "--only", "payload.count", "--save-body", str(body))
    assert code == 0
    assert body.read_bytes() == b"".join(frame(ram_messages()))
    code, out, _ = cli("decode", str(body))
    assert len(out.splitlines()) == 22


def test_reports_create_their_folder_and_an_unwritable_path_is_one_line(
    base: str, tmp_path: Path
) -> None:
    nested = tmp_path / "out" / "deeper"
    code, _, _ = cli(
        f"{base}/good",
        *FAST,
        "--only",
        "http.status",
        "--json-report",
        str(nested / "r.json"),
        "--junit-xml",
        str(nested / "r.xml"),
    )
    assert code == 0
    assert (nested / "r.json").is_file()
    assert (nested / "r.xml").is_file()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli(
        f"{base}/good", *FAST, "--only", "http.status", "--json-report", str(blocker / "r.json")
    )
    assert code == 2
    assert err.startswith("sse-conformance: error: cannot write a report")
    assert err.count("\n") == 1


def test_launch_that_never_gets_ready_is_a_one_line_error() -> None:
    port = free_port()
    cmd = f"{sys.executable} -c 'import time; print(\"booting\", flush=True); time.sleep(30)'"
    started = time.monotonic()
    code, out, err = cli(f"http://127.0.0.1:{port}/s", "--launch", cmd, "--ready-timeout", "1")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "booting" in err  # the command's last output is quoted
    assert time.monotonic() - started < 15


def test_list_checks_for_a_profile_shows_its_contract_and_the_generic_checks() -> None:
    _, everything, _ = cli("--list-checks")
    code, chat, _ = cli("--list-checks", "--profile", "openai-chat")
    assert code == 0
    assert "openai.chunk" in chat
    assert "http.status" in chat
    assert "payload.ram-format" not in chat
    assert "anthropic.order" not in chat
    assert "payload.ram-format" in everything
    assert "anthropic.order" in everything
    _, generic, _ = cli("--list-checks", "--profile", "generic")
    assert "openai.chunk" not in generic
    assert "mcp.session" not in generic
    assert "stream.concurrent" in generic
