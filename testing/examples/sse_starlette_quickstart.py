"""sse-starlette's README "Quick Start" (a Starlette app), under uvicorn."""

import asyncio
import sys
from collections.abc import AsyncGenerator

import uvicorn
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route


async def generate_events() -> AsyncGenerator[dict[str, str], None]:
    for i in range(10):
        yield {"data": f"Event {i}"}
        await asyncio.sleep(0.1)


async def sse_endpoint(request: Request) -> EventSourceResponse:
    return EventSourceResponse(generate_events())


app = Starlette(routes=[Route("/events", sse_endpoint)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
