"""Streams that end early: clients that leave, clients that stop reading, and server shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from reference.__main__ import ExitWatchdog
from testing.support import server_process
from tests.reference.helpers import AppFactory, expected_run, serve


def leftover_tasks() -> list[asyncio.Task[Any]]:
    """Tasks of the reference (sampler, disconnect watchers) or of a request still running."""
    found = []
    for task in asyncio.all_tasks():
        name = task.get_name()
        coro = task.get_coro()
        qualname = getattr(coro, "__qualname__", "")
        if name.startswith("reference-") or qualname.endswith("run_asgi"):
            found.append(task)
    return found


async def settle(app: FastAPI, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if app.state.hub.open_streams == 0 and not leftover_tasks():
            return
        await asyncio.sleep(0.01)


async def test_disconnect_stops_the_work_long_before_the_next_tick(build: AppFactory) -> None:
    built = build(interval=5.0, samples=20)
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        async with client.stream("GET", "/api/stream") as response:
            first = await response.aiter_raw().__anext__()
            assert first.startswith(b"id: 0\n")
            assert built.app.state.hub.open_streams == 1
            assert built.app.state.sampler.running
        # The client is gone; the next tick is ~5 s away, the stream must not wait for it.
        started = time.monotonic()
        await settle(built.app)
        assert time.monotonic() - started < 2.5
        assert built.app.state.hub.open_streams == 0
        assert leftover_tasks() == []
        assert not built.app.state.sampler.running
        health = (await client.get("/healthz")).json()
    assert health["open_streams"] == 0
    assert health["streams_disconnected"] == 1
    assert built.memory.calls == 0  # no tick ever came: nothing was sampled for nobody


async def test_connect_then_abort_churn_leaves_nothing_behind(build: AppFactory) -> None:
    built = build(interval=0.02, samples=1000)
    async with serve(built.app) as base:
        port = int(base.rsplit(":", 1)[1])

        async def abort_after_first_event() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            await reader.readuntil(b"id: 0\n")
            writer.transport.abort()  # RST, like a killed client

        for _ in range(4):
            await asyncio.gather(*(abort_after_first_event() for _ in range(50)))
        await settle(built.app)
        assert built.app.state.hub.open_streams == 0
        assert leftover_tasks() == []
        assert built.app.state.hub.counters.disconnected == 200


def stream_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/stream",
        "raw_path": b"/api/stream",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


class Client:
    """An ASGI-level client: ``stall_after`` body messages, its ``send`` blocks until released."""

    def __init__(self, stall_after: int | None = None) -> None:
        self.stall_after = stall_after
        self.bodies: list[tuple[float, bytes]] = []
        self.completed = False
        self.release = asyncio.Event()
        self._forever = asyncio.Event()
        self._requested = False

    async def receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._forever.wait()  # never disconnects by itself
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        if message["type"] != "http.response.body":
            return
        if self.stall_after is not None and len(self.bodies) >= self.stall_after:
            await self.release.wait()  # the socket stopped draining
        self.bodies.append((time.monotonic(), message.get("body", b"")))
        if not message.get("more_body", False):
            self.completed = True


@pytest.mark.parametrize(
    ("queue_size", "send_timeout", "samples", "reason"),
    [
        (4, 30.0, 40, "slow"),  # its inbox fills after 5 ticks: dropped long before 30 s
        (100_000, 0.6, 80, "send_timeout"),  # never fills: the send watchdog drops it
    ],
)
async def test_a_stalled_client_is_dropped_and_never_delays_the_others(
    build: AppFactory, queue_size: int, send_timeout: float, samples: int, reason: str
) -> None:
    built = build(interval=0.02, samples=samples, send_timeout=send_timeout, queue_size=queue_size)
    stalled, healthy = Client(stall_after=2), Client()
    stalled_run = asyncio.create_task(built.app(stream_scope(), stalled.receive, stalled.send))
    healthy_run = asyncio.create_task(built.app(stream_scope(), healthy.receive, healthy.send))
    await asyncio.wait_for(healthy_run, 10)
    # The healthy client got its whole run, and no gap came near the stalled client's stall.
    assert b"".join(body for _, body in healthy.bodies) == expected_run(samples)
    gaps = [b[0] - a[0] for a, b in zip(healthy.bodies, healthy.bodies[1:], strict=False)]
    assert max(gaps) < 0.4
    # The stalled one was dropped (its blocked send cancelled), without completing its response.
    await asyncio.wait_for(stalled_run, 5)
    assert not stalled.completed
    assert len(stalled.bodies) == 2
    sampler = built.app.state.sampler
    assert (sampler.dropped_slow, sampler.dropped_send_timeout) == (
        (1, 0) if reason == "slow" else (0, 1)
    )
    counters = built.app.state.hub.counters
    assert (counters.completed, counters.dropped) == (1, 1)
    assert built.app.state.hub.open_streams == 0
    assert not sampler.running


async def test_a_lone_stalled_client_stops_the_ticker_and_leaves_no_task(build: AppFactory) -> None:
    built = build(interval=0.02, samples=1000, send_timeout=60.0, queue_size=2)
    stalled = Client(stall_after=1)
    run = asyncio.create_task(built.app(stream_scope(), stalled.receive, stalled.send))
    await asyncio.wait_for(run, 5)  # dropped after 3 ticks, not after the 60 s send timeout
    assert built.app.state.sampler.dropped_slow == 1
    assert not built.app.state.sampler.running
    assert built.app.state.hub.counters.dropped == 1
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("reference-")] == []


async def _open_streams(
    port: int, count: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    async def one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"id: 0\n")
        return reader, writer

    return list(await asyncio.gather(*(one() for _ in range(count))))


def _wait_for_exit(process: subprocess.Popen[bytes], limit: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(limit)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_with_open_streams_exits_within_2_s(sig: signal.Signals) -> None:
    argv = [
        "-m",
        "reference",
        "--interval",
        "0.05",
        "--samples",
        "100000",
        "--log-level",
        "warning",
    ]
    with server_process(argv) as server:
        streams = await _open_streams(server.port, 500)
        started = time.monotonic()
        server.process.send_signal(sig)
        await asyncio.to_thread(_wait_for_exit, server.process, 5.0)
        elapsed = time.monotonic() - started
        assert server.process.poll() is not None, "still running 5 s after the signal"
        assert elapsed < 2.0, f"took {elapsed:.2f} s to exit"
        # Every stream was ended cleanly (the final chunk), not cut mid-message.
        for reader, writer in streams:
            rest = await asyncio.wait_for(reader.read(), 5)
            assert rest.endswith(b"\n\n\r\n0\r\n\r\n")
            writer.close()


async def test_exit_watchdog_exits_at_its_limit_unless_cancelled(build: AppFactory) -> None:
    hub = build().app.state.hub
    exits: list[int] = []
    fired = ExitWatchdog(0.05, hub, exit_process=exits.append)
    fired.arm(143)
    fired.arm(130)  # armed once: the first signal's code is kept
    assert fired.thread is not None
    await asyncio.to_thread(fired.thread.join, 5)
    assert exits == [143]

    cancelled = ExitWatchdog(0.2, hub, exit_process=exits.append)
    cancelled.arm(143)
    cancelled.cancel()
    assert cancelled.thread is not None
    await asyncio.to_thread(cancelled.thread.join, 5)
    assert exits == [143]
