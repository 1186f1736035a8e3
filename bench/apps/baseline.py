"""Baseline: the well-known demo's way, a StreamingResponse over a per-client async generator.

Every client runs its own loop that calls psutil and sleeps, so the cost of a tick grows with
the number of clients, and the first two messages leave together (it sleeps *after* a sample).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from bench.apps.contract import SENTINEL, START, sample_text, serve


def create_app(interval: float = 1.0, samples: int = 20) -> FastAPI:
    """Demo-style baseline app (StreamingResponse, psutil per client)."""
    app = FastAPI()

    async def ram_usage() -> AsyncIterator[str]:
        yield f"data: {json.dumps(START)}\n\n"
        for _ in range(samples):
            yield f"data: {json.dumps(sample_text())}\n\n"
            await asyncio.sleep(interval)
        yield f"data: {json.dumps(SENTINEL)}\n\n"

    @app.get("/api/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(
            ram_usage(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "Connection": "keep-alive"},
        )

    return app


if __name__ == "__main__":
    raise SystemExit(serve(create_app))
