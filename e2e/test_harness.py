"""The test harness itself, without a browser: the traffic recorder and the broken-page copies.

The browser tests trust these to tell the truth (how many stream requests, whether the client hung
up; that a broken copy really is broken), so they get tests of their own.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from e2e.broken import MUTANTS, Mutant, MutantError, TextEdit, get_mutant, make_broken_copy
from e2e.servers import (
    NOT_JSON_PAYLOAD,
    Receive,
    Scope,
    Send,
    TrafficRecorder,
    not_json_messages,
    sse_stream_app,
)
from e2e.ui import check_sample
from testing.support import uvicorn_thread

STATIC_DIR = Path(__file__).resolve().parent.parent / "reference" / "static"


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello", "more_body": False})


def test_recorder_sees_requests_and_overrides_paths() -> None:
    stream = sse_stream_app(['"a"', '"b"'], interval=0.01)
    recorder = TrafficRecorder(hello, {"/api/stream": stream})
    with uvicorn_thread(recorder) as server:
        assert httpx.get(server.base_url + "/x").text == "hello"
        body = httpx.get(server.base_url + "/api/stream", headers={"Last-Event-ID": "3"}).text
    assert body == 'id: 0\ndata: "a"\n\nid: 1\ndata: "b"\n\n'
    first, second = recorder.exchanges()
    assert (first.path, first.status, first.body_bytes, first.completed) == ("/x", 200, 5, True)
    [stream_exchange] = recorder.streams()
    assert stream_exchange is not second  # copies: a test never holds a record being written
    assert stream_exchange.headers["last-event-id"] == "3"
    assert stream_exchange.completed
    assert stream_exchange.ended is not None
    recorder.clear()
    assert recorder.exchanges() == []


def test_recorder_sees_a_client_hang_up() -> None:
    stream = sse_stream_app([json.dumps(str(n)) for n in range(200)], interval=0.05)

    async def listening_stream(scope: Scope, receive: Receive, send: Send) -> None:
        # Like the reference: end the stream as soon as the server reports the disconnect.
        task = asyncio.ensure_future(stream(scope, receive, send))
        while (await receive())["type"] != "http.disconnect":
            pass
        task.cancel()

    recorder = TrafficRecorder(hello, {"/api/stream": listening_stream})
    with uvicorn_thread(recorder) as server:
        with httpx.stream("GET", server.base_url + "/api/stream") as response:
            next(response.iter_bytes())
        # Still serving: what ends the exchange is the client leaving, not a shutdown.
        [exchange] = recorder.wait_for(lambda s: bool(s) and s[0].ended is not None, timeout=5)
    assert exchange.client_disconnected
    assert not exchange.completed


def test_wait_for_gives_up_at_its_timeout() -> None:
    recorder = TrafficRecorder(hello)
    began = time.monotonic()
    assert recorder.wait_for(lambda s: len(s) == 1, timeout=0.2) == []
    assert 0.2 <= time.monotonic() - began < 5


def test_not_json_stream_has_one_bad_message_among_good_ones() -> None:
    payloads = not_json_messages()
    decoded = []
    for payload in payloads:
        try:
            decoded.append(json.loads(payload))
        except ValueError:
            decoded.append(None)
    assert decoded.count(None) == 1
    assert payloads[decoded.index(None)] == NOT_JSON_PAYLOAD
    assert decoded[0] == "Starting system RAM monitoring..."
    assert decoded[-1] == "RAM monitoring completed"
    assert [check_sample(t) for t in decoded[1:-1] if t is not None] == [None, None, None]


@pytest.mark.parametrize("mutant", [m for m in MUTANTS.values() if m.edit], ids=lambda m: m.name)
def test_edit_mutants_still_apply_to_the_page(mutant: Mutant, tmp_path: Path) -> None:
    """A page change that stales a mutant shows up here, in one line, not as a puzzling e2e run."""
    assert mutant.edit is not None
    copy = make_broken_copy(mutant, STATIC_DIR, tmp_path / "static")
    original = (STATIC_DIR / mutant.edit.file).read_text(encoding="utf-8")
    broken = (copy / mutant.edit.file).read_text(encoding="utf-8")
    assert broken != original
    assert broken == original.replace(mutant.edit.old, mutant.edit.new)
    assert (copy / "index.html").read_bytes() == (STATIC_DIR / "index.html").read_bytes()


def test_a_stale_edit_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.js").write_text("nothing to see\n", encoding="utf-8")
    stale = Mutant("stale", "", (), edit=TextEdit("app.js", "close()", ""))
    with pytest.raises(MutantError, match="not found exactly once") as caught:
        make_broken_copy(stale, tmp_path / "src", tmp_path / "out")
    assert "\n" not in str(caught.value)


def test_unknown_mutant_names_the_known_ones() -> None:
    with pytest.raises(MutantError, match="known: ignore-sentinel, never-close"):
        get_mutant("nope")
    assert all(m.expected_failures for m in MUTANTS.values())
    assert all((m.script is None) != (m.edit is None) for m in MUTANTS.values())
