"""Reconnection in a real Chromium: the server cuts the stream mid-run, EventSource comes back.

The reference is served with its /api/stream wrapped so that the first connection of a run is
ended by the server after ``CUT`` messages (a clean end of the response, as a restarted worker or
a proxy timeout does). Chromium's EventSource then waits its default 3 s and reconnects by
itself, with ``Last-Event-ID`` set to the last id it saw, and the reference resumes at the next
message. The demo-style copy strips the ids (and ignores ``Last-Event-ID``), as the FastAPI + Vue
demo does: the same cut then restarts the run, and the page sees its first messages twice.

The EventSource is driven in the page's own origin through ``page.evaluate``, not through the
page's Start button: the page deliberately closes its EventSource on any error (no reconnection
loop; ``test_failures.py`` proves that), so only a bare EventSource shows the browser's own
reconnection. Helpers stay in this file (the shared fixtures are being moved elsewhere).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from e2e.servers import ASGIApp, Message, Receive, Scope, Send, TrafficRecorder, reference_app
from testing.support import uvicorn_thread

pytestmark = pytest.mark.owned_server

INTERVAL = 0.1
SAMPLES = 20
TOTAL = SAMPLES + 2
CUT = 7  # the server ends the first connection after this many messages
SENTINEL = "RAM monitoring completed"
CHROMIUM_RECONNECT_S = 3.0
ID_LINE = re.compile(rb"^id: [^\n]*\n", re.MULTILINE)


class _Cut(OSError):
    """Raised into the reference's stream after the cut: it ends that stream as a disconnect."""


def cut_first_connection(app: ASGIApp, *, strip_ids: bool = False) -> ASGIApp:
    """/api/stream whose first connection the server ends after CUT messages.

    ``strip_ids``: the demo-style stream, without ``id:`` lines and deaf to ``Last-Event-ID``.
    """
    state = {"connections": 0}

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        state["connections"] += 1
        first = state["connections"] == 1
        if strip_ids:
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"last-event-id"]
            scope = {**scope, "headers": headers}
        sent = 0

        async def cutting_send(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body" and message.get("body"):
                if strip_ids:
                    message = {**message, "body": ID_LINE.sub(b"", message["body"])}
                sent += 1
            await send(message)
            if first and sent >= CUT and message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _Cut("the server ended this connection mid-run")

        await app(scope, receive, cutting_send)

    return wrapped


@contextlib.contextmanager
def serve_cut_reference(*, strip_ids: bool = False) -> Iterator[tuple[str, TrafficRecorder]]:
    app, _settings = reference_app(interval=INTERVAL, samples=SAMPLES)
    recorder = TrafficRecorder(app, {"/api/stream": cut_first_connection(app, strip_ids=strip_ids)})
    with uvicorn_thread(recorder, timeout_graceful_shutdown=2) as running:
        yield running.base_url, recorder


# A bare EventSource in the page's origin: every message (data, lastEventId), every error with
# the readyState at that moment, closed on the sentinel as the page closes it.
LISTEN = """
(sentinel) => {
  window.__sse = { messages: [], errors: [], done: false };
  const source = new EventSource("/api/stream");
  source.onmessage = (event) => {
    window.__sse.messages.push({ data: JSON.parse(event.data), id: event.lastEventId });
    if (JSON.parse(event.data) === sentinel) { source.close(); window.__sse.done = true; }
  };
  source.onerror = () => window.__sse.errors.push(source.readyState);
}
"""


def listen_until_done(page: Page, base_url: str, timeout_s: float) -> dict[str, Any]:
    page.goto(base_url + "/")
    page.evaluate(LISTEN, SENTINEL)
    page.wait_for_function("() => window.__sse.done", timeout=timeout_s * 1000)
    result: dict[str, Any] = page.evaluate("() => window.__sse")
    return result


RUN_S = INTERVAL * TOTAL
TIMEOUT_S = CHROMIUM_RECONNECT_S + 2 * RUN_S + 10


def test_chromium_resumes_the_reference_with_last_event_id(page: Page) -> None:
    with serve_cut_reference() as (base_url, traffic):
        seen = listen_until_done(page, base_url, TIMEOUT_S)
        streams = traffic.streams()
    # The browser reconnected by itself, once, with the last id it had seen
    assert len(streams) == 2, [s.headers for s in streams]
    assert "last-event-id" not in streams[0].headers
    assert streams[1].headers["last-event-id"] == str(CUT - 1)
    assert streams[1].started - streams[0].started >= CHROMIUM_RECONNECT_S * 0.9
    # EventSource reported the cut as a reconnecting error (readyState CONNECTING = 0), no more
    assert seen["errors"] == [0]
    # Every message exactly once, in order, and the run completed
    assert [m["id"] for m in seen["messages"]] == [str(i) for i in range(TOTAL)]
    texts = [m["data"] for m in seen["messages"]]
    assert texts[0] == "Starting system RAM monitoring..."
    assert texts[-1] == SENTINEL
    # (samples may repeat a text: same second, same usage; the ids above prove each came once)
    assert len(texts) == TOTAL
    assert texts.count("Starting system RAM monitoring...") == 1
    assert texts.count(SENTINEL) == 1


def test_demo_style_stream_without_ids_restarts_on_reconnect(page: Page) -> None:
    with serve_cut_reference(strip_ids=True) as (base_url, traffic):
        seen = listen_until_done(page, base_url, TIMEOUT_S)
        streams = traffic.streams()
    assert len(streams) == 2
    # No id seen, so the browser sends no Last-Event-ID: the server cannot resume
    assert "last-event-id" not in streams[1].headers
    texts = [m["data"] for m in seen["messages"]]
    assert all(m["id"] == "" for m in seen["messages"])
    # The restart: the first CUT messages show twice, the greeting included
    assert len(texts) == CUT + TOTAL, json.dumps(texts, indent=1)
    assert texts.count("Starting system RAM monitoring...") == 2
    assert texts[CUT] == "Starting system RAM monitoring..."
    assert texts[-1] == SENTINEL


def test_the_page_rides_out_a_server_side_cut_with_last_event_id(page: Page) -> None:
    """The reference page itself (Start button): the server ends its stream mid-run; the page's
    EventSource reconnects once with Last-Event-ID, every line shows exactly once, in order, and
    the run completes."""
    from playwright.sync_api import expect

    from e2e.ui import GREETING, MonitorPage

    with serve_cut_reference() as (base_url, traffic):
        ui = MonitorPage(page)
        ui.open(base_url + "/")
        ui.start.click()
        expect(ui.status).to_have_attribute("data-status", "completed", timeout=TIMEOUT_S * 1000)
        texts = ui.line_texts()
        streams = traffic.streams()
    assert len(streams) == 2, [s.headers for s in streams]
    assert streams[1].headers["last-event-id"] == str(CUT - 1)
    assert len(texts) == TOTAL, texts
    assert texts[0] == GREETING
    assert texts[-1] == SENTINEL
    assert texts.count(GREETING) == 1
