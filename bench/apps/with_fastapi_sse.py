"""FastAPI's native SSE (``fastapi.sse``, FastAPI >= 0.135): a path operation that yields
``ServerSentEvent``s with ``response_class=EventSourceResponse``; data is JSON-encoded for us."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

from bench.apps.contract import SENTINEL, START, sample_text, serve


def create_app(interval: float = 1.0, samples: int = 20) -> FastAPI:
    """fastapi.sse app (native EventSourceResponse, psutil per client)."""
    app = FastAPI()

    @app.get("/api/stream", response_class=EventSourceResponse)
    async def stream() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(data=START, id="0")
        for n in range(1, samples + 1):
            await asyncio.sleep(interval)
            yield ServerSentEvent(data=sample_text(), id=str(n))
        yield ServerSentEvent(data=SENTINEL, id=str(samples + 1))

    return app


if __name__ == "__main__":
    raise SystemExit(serve(create_app))
