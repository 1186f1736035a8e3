"""Issue 16 point 9: the load mode bounds the response head and the time to the first event, each
apart from ``--timeout`` (silence), and names the phase of a timeout (``timeout:head``...)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from conformance.load.cli import build_parser, config_from_args, main
from conformance.load.client import LoadStream
from conformance.load.httpwire import parse_target
from conformance.load.runner import LoadConfig, StreamPool, run_load
from testing.rawhttp import Exchange, threaded_sse_server
from tests.load.test_runner_errors import HEAD, Handler, chunk, raw_server

TRICKLE = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Pad: " + b"a" * 200


def trickle_head() -> Handler:
    """A head sent one byte per 0.2 s: silence never exceeds --timeout, the head never ends."""

    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for byte in TRICKLE:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)

    return handler


def head_then_comments() -> Handler:
    """A head, then a comment every 0.2 s and never an event."""

    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        for _tick in range(100):
            writer.write(chunk(b": keep-alive\n\n"))
            await writer.drain()
            await asyncio.sleep(0.2)

    return handler


async def test_a_trickled_head_is_a_head_timeout() -> None:
    async with raw_server(trickle_head()) as url:
        start = time.monotonic()
        config = LoadConfig(url=url, steps=[2], hold=0.8, timeout=1.0, head_timeout=0.5)
        report = await run_load(config)
        elapsed = time.monotonic() - start
    step = report.steps[0]
    assert step.errors.get("timeout:head", 0) >= 2, step.errors
    assert set(step.errors) == {"timeout:head"}
    assert not step.meets
    assert elapsed < 10


async def test_a_stream_without_events_is_a_first_event_timeout() -> None:
    async with raw_server(head_then_comments()) as url:
        config = LoadConfig(url=url, steps=[2], hold=0.8, timeout=1.0, first_event_timeout=0.5)
        report = await run_load(config)
    step = report.steps[0]
    assert step.errors.get("timeout:first-event", 0) >= 2, step.errors
    assert set(step.errors) == {"timeout:first-event"}
    assert not step.meets


async def test_silence_after_events_is_an_idle_timeout() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD + chunk(b"data: 1\n\n"))
        await writer.drain()
        await asyncio.sleep(30)

    async with raw_server(handler) as url:
        config = LoadConfig(url=url, steps=[2], hold=1.2, timeout=0.5)
        report = await run_load(config)
    assert set(report.steps[0].errors) == {"timeout:idle"}


def test_the_cli_takes_both_limits_from_the_settings_table(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/"
    args = build_parser().parse_args(
        [url, "--first-byte-timeout", "3", "--first-event-timeout", "4"]
    )
    config = config_from_args(args)
    assert (config.head_timeout, config.first_event_timeout) == (3.0, 4.0)
    defaults = config_from_args(build_parser().parse_args([url]))
    assert (defaults.head_timeout, defaults.first_event_timeout) == (10.0, 5.0)
    chat = config_from_args(build_parser().parse_args([url, "--profile", "openai-chat"]))
    assert (chat.head_timeout, chat.first_event_timeout) == (60.0, 30.0)
    assert main([url, "--first-event-timeout", "nan"]) == 2
    assert main([url, "--first-byte-timeout", "-1"]) == 2


def test_the_phase_reaches_the_json_and_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def quiet(exchange: Exchange) -> None:
        await exchange.send_head(200, [("Content-Type", "text/event-stream")])
        for _ in range(50):  # comments only, never an event
            await exchange.send(b": ping\n\n")
            await exchange.pause(0.1)

    out = tmp_path / "load.json"
    with threaded_sse_server(quiet) as server:
        argv = [server.url, "--streams", "1", "--duration", "1", "--timeout", "2",
                "--first-event-timeout", "0.5", "--json", str(out)]  # fmt: skip
        assert main(argv) == 1
    text = capsys.readouterr().out
    assert "timeout:first-event=" in text
    assert "uniform sample of at most 20,000 values" in text
    data = json.loads(out.read_text())
    assert data["steps"][0]["errors"]["timeout:first-event"] >= 1
    assert data["sample_size"] == 20_000


@pytest.mark.slow
def test_sample_memory_does_not_grow_with_a_million_events() -> None:
    sample_memory_stays_flat(1000)


def test_sample_memory_does_not_grow_with_events() -> None:
    sample_memory_stays_flat(100)


def sample_memory_stays_flat(rounds_total: int) -> None:
    """rounds x 10 streams x 100 events (1,000,000 in the slow test) fed to the pool's sans-IO path (no socket): what is kept stays bounded by
    the reservoirs and the per-stream arrival cap, not by the event count."""
    config = LoadConfig(url="http://127.0.0.1:9/", steps=[10], interval=0.001, sample_size=5000)
    pool = StreamPool(config, parse_target(config.url))
    pool.begin_hold(0.0)
    streams = [LoadStream(b"", pool, started=0.0) for _ in range(10)]
    head = HEAD
    for stream in streams:
        stream.data_received(head)
    block = b"".join(chunk(b"id: %d\ndata: x\n\n" % i) for i in range(100))

    def retained() -> int:
        kept = sum(len(s.arrivals) for s in streams)
        figures = (pool.itl, pool.lateness, pool.ttft, pool.durations, pool.stream_rates)
        return kept + sum(len(r.values) for r in figures)

    sizes = []
    for rounds in range(rounds_total):
        for stream in streams:
            stream.data_received(block)
        if rounds % 25 == 24:  # what the sweeper does every 0.25 s
            for stream in streams:
                pool.harvest(stream)
            sizes.append(retained())
    assert sum(s.events for s in streams) == rounds_total * 1000
    assert pool.itl.count > rounds_total * 900
    bound = 5 * 5000 + 10 * (1024 + 25 * 100)
    assert max(sizes) <= bound
    assert sizes[-1] <= sizes[len(sizes) // 2] + 10 * 2600  # flat, not growing
