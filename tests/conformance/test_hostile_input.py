"""Hostile input (issue 16): what a user types or a server sends never makes the suite blame the
wrong party, hang, or render a capture by accident."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.errors import UsageError
from conformance.profiles import load_profile
from testing.rawhttp import threaded_sse_server
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
