"""What the LLM API fakes (Responses, Anthropic Messages) share: a paced SSE answer, one POST route.

Each fake builds its own frames and its own error bodies; how they go on the wire, and how the
requests seen are kept for the tests (``app.state.requests``), is the same for all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def paced_sse(parts: Iterable[bytes], delay: float) -> StreamingResponse:
    """A ``text/event-stream`` answer sending ``parts`` one by one, ``delay`` s after each, with
    the headers a real API sends so no proxy holds it back."""

    async def stream() -> AsyncIterator[bytes]:
        for part in parts:
            yield part
            await asyncio.sleep(delay)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def post_app(
    path: str,
    endpoint: Callable[[Request], Awaitable[Response]],
    requests: list[dict[str, Any]],
) -> Starlette:
    """An app answering ``POST path`` with ``endpoint``; ``app.state.requests`` is ``requests``,
    the list the endpoint records each request in."""
    app = Starlette(routes=[Route(path, endpoint, methods=["POST"])])
    app.state.requests = requests
    return app
