"""What the reference tests import by name: fake memory, a same-loop uvicorn, the expected bytes.

The ``build`` fixture in ``conftest.py`` assembles an app from these; tests import the rest from
here, never from the conftest or from each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from reference.__main__ import StreamingServer, http_protocol
from reference.settings import Settings
from testing.support import free_port

FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5)
FAKE_TOTAL = 8 * 1024**3
FAKE_PERCENT = 42.5
FAKE_SAMPLE = "2026-01-02 03:04:05 - RAM usage: 42.5% (3.40GB / 8.00GB)"


@dataclass(frozen=True)
class FakeMemory:
    total: int
    percent: float


@dataclass
class MemorySource:
    """Stands in for psutil.virtual_memory and counts the calls (one per tick is the contract)."""

    reading: FakeMemory = field(default_factory=lambda: FakeMemory(FAKE_TOTAL, FAKE_PERCENT))
    calls: int = 0

    def __call__(self) -> FakeMemory:
        self.calls += 1
        return self.reading


@dataclass
class Built:
    app: FastAPI
    memory: MemorySource
    settings: Settings


AppFactory = Callable[..., Built]


FIRST = b'data: "Starting system RAM monitoring..."\n\n'
SAMPLE = b'data: "' + FAKE_SAMPLE.encode() + b'"\n\n'
SENTINEL = b'data: "RAM monitoring completed"\n\n'


def expected_run(samples: int, first_id: int = 0) -> bytes:
    """The body of a whole run with the fake sample, from message ``first_id`` on (ids as sent)."""
    messages = [FIRST] + [SAMPLE] * samples + [SENTINEL]
    return b"".join(b"id: %d\n" % i + messages[i] for i in range(first_id, samples + 2))


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run the app under a real uvicorn in THIS event loop, so tests can inspect its tasks."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        http=http_protocol(app.state.settings),  # the request-head bounds, as create_server
    )
    server = StreamingServer(config, app.state.hub, shutdown_timeout=5.0)
    # Leave the test process's signal handlers alone.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def read_stream(
    client: httpx.AsyncClient, url: str, **kwargs: Any
) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", url, **kwargs) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body
