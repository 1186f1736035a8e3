"""Small SSE upstreams for the proxy tests: the ram-monitor stream, with or without the opt-out header.

Why not the reference for both: the point of test (a) is a server that is correct in every way
except that it does not send ``X-Accel-Buffering: no``; the reference does send it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

FIRST = "Starting system RAM monitoring..."
SENTINEL = "RAM monitoring completed"


def ram_lines(samples: int = 20) -> list[str]:
    """The ram-monitor texts: first message, ``samples`` well-formed samples, the sentinel."""
    texts = [FIRST]
    for i in range(samples):
        percent = 40.0 + i / 10
        total = 16.0
        used = total * percent / 100
        texts.append(
            f"2026-11-25 17:29:{i:02d} - RAM usage: {percent}% ({used:.2f}GB / {total:.2f}GB)"
        )
    texts.append(SENTINEL)
    return texts


def ram_stream_app(
    *, interval: float, accel_header: bool, cache_control: bool = True, samples: int = 20
) -> Starlette:
    """GET /api/stream: one event per ``interval`` seconds, LF framing, JSON-string data."""

    async def stream(request: Request) -> Response:
        request.app.state.streams += 1

        async def events() -> AsyncIterator[bytes]:
            for number, text in enumerate(ram_lines(samples)):
                if number:
                    await asyncio.sleep(interval)
                yield b"data: " + json.dumps(text).encode() + b"\n\n"

        headers = {"Cache-Control": "no-cache"} if cache_control else {}
        if accel_header:
            headers["X-Accel-Buffering"] = "no"
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    app = Starlette(routes=[Route("/api/stream", stream)])
    app.state.streams = 0  # requests served, for tests that count connections
    return app
