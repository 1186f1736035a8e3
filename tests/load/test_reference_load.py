"""The reference under load, as a real uvicorn process: aborts, a stalled reader, SIGTERM, 503s,
and a smoke run of the load mode itself."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import struct
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from conformance.load.cli import main as load_main
from conformance.load.runner import LoadConfig, run_load
from testing.support import server_process

QUIET = ["--log-level", "warning", "--access-log", "false"]
SMALLBUF = str(Path(__file__).with_name("smallbuf_reference.py"))
LINGER_RESET = struct.pack("ii", 1, 0)

# Real load against the reference for seconds each: `nox -s slow` (CI runs it).
pytestmark = pytest.mark.slow


def health(base_url: str) -> dict[str, Any]:
    response = httpx.get(base_url + "/healthz", timeout=5)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def wait_for_open_streams(base_url: str, wanted: int, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = health(base_url)
        if state["open_streams"] == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


async def connect_then_abort(port: int, cycles: int, concurrency: int = 50) -> int:
    """Open a stream, read its first bytes, then reset the connection; ``cycles`` times."""
    done = 0
    request = b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"

    async def one() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await asyncio.wait_for(reader.readuntil(b"\n\n"), 10)  # head + first event
            done += 1
        finally:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            writer.transport.abort()

    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    share, extra = divmod(cycles, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    return done


def test_abort_churn_leaves_no_stream_and_no_memory_behind() -> None:
    with server_process(["-m", "reference", "--interval", "0.2", *QUIET]) as server:
        proc = psutil.Process(server.process.pid)
        assert asyncio.run(connect_then_abort(server.port, 200)) == 200  # warm-up
        assert wait_for_open_streams(server.base_url, 0)["open_streams"] == 0
        rss_before = proc.memory_info().rss
        assert asyncio.run(connect_then_abort(server.port, 1000)) == 1000
        state = wait_for_open_streams(server.base_url, 0)
        rss_after = proc.memory_info().rss
    assert state["open_streams"] == 0, state
    growth = (rss_after - rss_before) / rss_before
    assert growth < 0.05, f"RSS grew {growth:.1%}: {rss_before} -> {rss_after}"


def test_stalled_reader_is_dropped_while_others_stay_on_time() -> None:
    # At a 5 ms tick the stalled stream's buffers (4 KiB socket + uvicorn's 64 KiB) fill in about
    # 6 s, inside the hold; then its blocked send overflows its 4-tick queue and it is dropped.
    flags = ["--interval", "0.005", "--samples", "100000", "--send-timeout", "1"]
    with server_process([SMALLBUF, *flags, "--queue-size", "4", *QUIET]) as server:
        stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # never read
        try:
            config = LoadConfig(url=server.base_url + "/api/stream", steps=[30], hold=8.0)
            report = asyncio.run(run_load(config))
            state = health(server.base_url)
        finally:
            stalled.close()
    step = report.steps[0]
    assert state["streams_dropped"] == 1, state
    assert step.errors == {}
    assert step.missing == 0
    assert step.open_end == 30
    assert step.events > 30 * 8 * 50  # the readers kept getting a stream of events
    # A sampler or fan-out held up by the stalled send would leave every reader silent for
    # about a second; at a 5 ms cadence "on time" means no reader ever waits 250 ms.
    assert step.max_gap_s < 0.25, step.as_dict()


def test_sigterm_with_open_streams_exits_within_2_s() -> None:
    async def hold_streams(port: int, count: int) -> list[asyncio.StreamWriter]:
        request = b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

        async def one() -> asyncio.StreamWriter:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await asyncio.wait_for(reader.readuntil(b"\n\n"), 10)
            return writer

        return list(await asyncio.gather(*(one() for _ in range(count))))

    async def scenario(server: Any) -> float:
        writers = await hold_streams(server.port, 300)
        try:
            state = await asyncio.to_thread(health, server.base_url)
            assert state["open_streams"] == 300, state
            start = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.process.wait, 10)
            return time.monotonic() - start
        finally:
            for writer in writers:
                writer.transport.abort()

    with server_process(["-m", "reference", "--interval", "1", *QUIET]) as server:
        elapsed = asyncio.run(scenario(server))
    assert elapsed < 2.0, f"exit took {elapsed:.2f} s"


def test_beyond_max_streams_refused_by_503_and_the_server_unharmed() -> None:
    with server_process(
        ["-m", "reference", "--interval", "0.2", "--max-streams", "40", *QUIET]
    ) as server:
        url = server.base_url + "/api/stream"
        config = LoadConfig(url=url, steps=[60], hold=1.5, timeout=3, interval=0.2)
        report = asyncio.run(run_load(config))
        with httpx.stream("GET", url, timeout=10) as response:
            extra_status = response.status_code
            first = next(response.iter_lines())
        assert wait_for_open_streams(server.base_url, 0)["open_streams"] == 0
        state = health(server.base_url)
    step = report.steps[0]
    assert step.errors.get("refused", 0) >= 20, step.as_dict()
    assert set(step.errors) == {"refused"}
    assert set(step.statuses) == {"503"}
    assert step.open_end == 40
    assert not step.meets
    assert extra_status == 200
    assert first.startswith(("data:", "id:"))
    assert state["streams_refused"] >= 20


def test_retry_after_on_503() -> None:
    with server_process(
        ["-m", "reference", "--interval", "1", "--max-streams", "1", *QUIET]
    ) as server:
        url = server.base_url + "/api/stream"
        with httpx.stream("GET", url, timeout=10) as first:
            assert first.status_code == 200
            refused = httpx.get(url, timeout=10)
    assert refused.status_code == 503
    assert refused.headers.get("retry-after", "").isdigit()


def test_load_mode_smoke_few_hundred_streams(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    with server_process(["-m", "reference", "--interval", "0.2", *QUIET]) as server:
        argv = [
            server.base_url + "/api/stream",
            "--streams", "300", "--duration", "3", "--interval", "0.2",
            "--server-pid", str(server.process.pid), "--json", str(out),
        ]  # fmt: skip
        code = load_main(argv)
    report = json.loads(out.read_text())
    step = report["steps"][0]
    assert step["errors"] == {}, step
    assert step["missing"] == 0
    assert step["delivered"], step
    assert step["events"] >= 0.9 * 300 * 3 / 0.2
    assert step["server_rss_bytes"] > 0
    assert step["server_cpu_percent"] is not None
    assert step["lateness"]["p99_ms"] < 1000  # generous: the smoke run checks the machinery
    assert code == (0 if step["meets"] else 1)
    assert report["largest_meeting"] == (300 if step["meets"] else 0)
