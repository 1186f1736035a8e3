"""Servers the browser tests drive, and a recorder of what the server side saw.

The tests prove things only a server can see (how many times the browser asked for /api/stream,
whether it hung up when told to stop), so the reference app is served in-process behind
:class:`TrafficRecorder`, an ASGI wrapper that notes every exchange. The same wrapper can put a
test stream in place of /api/stream (:func:`not_json_stream`) while the reference keeps serving
the page, its Vue file and /api/config: the page under test stays the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from testing.support import uvicorn_thread

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STREAM_PATH = "/api/stream"


@dataclass
class RecordedExchange:
    """One HTTP request as the server saw it; fields fill in while it runs."""

    method: str
    path: str
    headers: dict[str, str]
    started: float
    status: int | None = None
    body_bytes: int = 0
    completed: bool = False  # the app sent its last body chunk: the response ended normally
    client_disconnected: bool = False  # the server told the app that the client went away
    ended: float | None = None  # the app returned (or raised): its work for this request stopped


class TrafficRecorder:
    """ASGI wrapper that records every HTTP exchange; ``overrides`` replace whole paths.

    The app runs in uvicorn's thread while tests read from theirs: reads go through a lock and
    return copies, so a test never sees a half-written record.
    """

    def __init__(self, app: ASGIApp, overrides: Mapping[str, ASGIApp] | None = None) -> None:
        self._app = app
        self._overrides = dict(overrides or {})
        self._lock = threading.Lock()
        self._exchanges: list[RecordedExchange] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        record = RecordedExchange(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            started=time.monotonic(),
        )
        with self._lock:
            self._exchanges.append(record)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                with self._lock:
                    record.client_disconnected = True
            return message

        async def recording_send(message: Message) -> None:
            await send(message)
            with self._lock:
                if message["type"] == "http.response.start":
                    record.status = int(message["status"])
                elif message["type"] == "http.response.body":
                    record.body_bytes += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        record.completed = True

        app = self._overrides.get(scope["path"], self._app)
        try:
            await app(scope, recording_receive, recording_send)
        finally:
            with self._lock:
                record.ended = time.monotonic()

    def exchanges(self, path: str | None = None) -> list[RecordedExchange]:
        with self._lock:
            return [replace(e) for e in self._exchanges if path is None or e.path == path]

    def streams(self) -> list[RecordedExchange]:
        """The GET requests to /api/stream: one per EventSource connection attempt."""
        return [e for e in self.exchanges(STREAM_PATH) if e.method == "GET"]

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()

    def wait_for(
        self, predicate: Callable[[list[RecordedExchange]], bool], timeout: float
    ) -> list[RecordedExchange]:
        """Poll the /api/stream exchanges until ``predicate`` holds; return them either way."""
        deadline = time.monotonic() + timeout
        while True:
            streams = self.streams()
            if predicate(streams) or time.monotonic() >= deadline:
                return streams
            time.sleep(0.02)


@dataclass
class ServedApp:
    """A server the tests own: where it listens and what it saw."""

    base_url: str
    traffic: TrafficRecorder
    interval: float
    samples: int
    extra: dict[str, Any] = field(default_factory=dict)


def reference_app(
    *, interval: float, samples: int, static_dir: Path | None = None, vue_dir: Path | None = None
) -> tuple[ASGIApp, Any]:
    """The reference app built by its own factory, as ``python -m reference`` would build it."""
    from reference.app import create_app
    from reference.settings import Settings

    overrides: dict[str, Any] = {"interval": interval, "samples": samples, "access_log": False}
    if static_dir is not None:
        overrides["static_dir"] = static_dir
    if vue_dir is not None:
        overrides["vue_dir"] = vue_dir
    settings = Settings(**overrides)
    app: ASGIApp = create_app(settings)
    return app, settings


@contextlib.contextmanager
def serve_reference(
    *,
    interval: float,
    samples: int = 20,
    static_dir: Path | None = None,
    vue_dir: Path | None = None,
    overrides: Mapping[str, ASGIApp] | None = None,
) -> Iterator[ServedApp]:
    """Serve the reference app (optionally with paths replaced) on a free loopback port."""
    app, _settings = reference_app(
        interval=interval, samples=samples, static_dir=static_dir, vue_dir=vue_dir
    )
    recorder = TrafficRecorder(app, overrides)
    with uvicorn_thread(recorder, timeout_graceful_shutdown=2) as running:
        yield ServedApp(running.base_url, recorder, interval, samples)


# --- a stream that is not the reference's: one message in it is not JSON -----------------------

NOT_JSON_PAYLOAD = "this is {not JSON"


def sample_text(index: int) -> str:
    """A sample line in the reference's format, with made-up but consistent numbers."""
    percent = 40.0 + index
    total = 16.0
    return (
        f"2026-01-01 00:00:{index:02d} - RAM usage: {percent}% "
        f"({total * percent / 100:.2f}GB / {total:.2f}GB)"
    )


def not_json_messages(sentinel: str = "RAM monitoring completed") -> list[str]:
    """The ``data:`` values, already encoded: JSON strings except one raw, non-JSON payload."""
    texts = ["Starting system RAM monitoring...", sample_text(1)]
    encoded = [json.dumps(t) for t in texts]
    encoded.append(NOT_JSON_PAYLOAD)
    encoded += [json.dumps(sample_text(2)), json.dumps(sample_text(3)), json.dumps(sentinel)]
    return encoded


def sse_stream_app(payloads: Sequence[str], *, interval: float) -> ASGIApp:
    """A minimal SSE endpoint sending ``payloads`` as ``id``/``data`` messages, then ending."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        for number, payload in enumerate(payloads):
            if number:
                await asyncio.sleep(interval)
            body = f"id: {number}\ndata: {payload}\n\n".encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app
