"""sse-starlette's EventSourceResponse, written the way its README suggests (a generator per
client yielding dicts), emitting the ram-monitor contract with ids."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sse_starlette.sse import EventSourceResponse

from bench.apps.contract import SENTINEL, START, sample_text, serve


def create_app(interval: float = 1.0, samples: int = 20) -> FastAPI:
    """sse-starlette app (EventSourceResponse, psutil per client)."""
    app = FastAPI()

    async def ram_usage() -> AsyncIterator[dict[str, str]]:
        yield {"id": "0", "data": json.dumps(START)}
        for n in range(1, samples + 1):
            await asyncio.sleep(interval)
            yield {"id": str(n), "data": json.dumps(sample_text())}
        yield {"id": str(samples + 1), "data": json.dumps(SENTINEL)}

    @app.get("/api/stream")
    async def stream() -> EventSourceResponse:
        return EventSourceResponse(ram_usage())

    return app


if __name__ == "__main__":
    raise SystemExit(serve(create_app))
