"""Per-step figures (TTFT, ITL, stream duration, events/s) in closed and open loop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conformance.load.cli import main
from conformance.load.runner import LoadConfig, run_load
from tests.load.test_runner_errors import HEAD, Handler, chunk, raw_server


def paced(events: int, gap: float, first_after: float = 0.0) -> Handler:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        await writer.drain()
        await asyncio.sleep(first_after)
        for n in range(events):
            writer.write(chunk(b"id: %d\ndata: x\n\n" % n))
            await writer.drain()
            await asyncio.sleep(gap)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return handler


async def test_open_loop_starts_the_arrival_rate_and_measures_every_stream() -> None:
    async with raw_server(paced(6, 0.05, first_after=0.1)) as url:
        config = LoadConfig(url=url, steps=[1], arrival_rates=[20.0], hold=0.5, timeout=2)
        report = await run_load(config)
    step = report.steps[0]
    assert step.mode == "open"
    assert step.arrival_rate == 20.0
    assert step.target == 10
    assert step.connections == 10
    assert step.ended == 10
    assert step.errors == {}
    assert step.meets
    assert step.ttft.count == 10
    assert 0.09 <= step.ttft.p50 <= 0.3
    assert step.itl.count == 50  # 5 gaps per stream
    assert 0.045 <= step.itl.p50 <= 0.1
    assert step.duration.count == 10
    assert step.duration.p50 >= 0.35
    assert 10 <= step.stream_rate.p50 <= 21  # 5 gaps of 50 ms: 20 events/s at most
    assert step.events == 60


async def test_open_loop_ttft_limit_is_the_criterion() -> None:
    async with raw_server(paced(2, 0.01, first_after=0.2)) as url:
        config = LoadConfig(
            url=url, steps=[1], arrival_rates=[10.0, 20.0], hold=0.3, timeout=2, ttft_limit=0.05
        )
        report = await run_load(config)
    assert len(report.steps) == 1  # stops at the first miss
    assert report.steps[0].delivered
    assert not report.steps[0].meets
    assert report.largest_rate_meeting == 0.0


async def test_open_loop_caps_arrivals_past_max_open() -> None:
    async with raw_server(paced(50, 0.05)) as url:
        config = LoadConfig(
            url=url, steps=[1], arrival_rates=[40.0], hold=0.5, timeout=0.5, max_open=5
        )
        step = (await run_load(config)).steps[0]
    assert step.errors["capped"] == 15
    assert not step.ramped
    assert not step.meets


async def test_closed_loop_reports_itl_and_duration() -> None:
    async with raw_server(paced(5, 0.03)) as url:
        config = LoadConfig(url=url, steps=[3], hold=1.0, timeout=1, interval=0.03)
        step = (await run_load(config)).steps[0]
    assert step.errors == {}
    assert step.itl.count > 30
    assert 0.025 <= step.itl.p50 <= 0.08
    assert step.itl.max == step.max_gap_s
    assert step.duration.count >= 6
    assert step.stream_rate.count >= 6


def test_cli_open_loop_writes_json_table_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")

    async def serve() -> int:
        async with raw_server(paced(4, 0.02)) as url:
            loop = asyncio.get_running_loop()
            argv = [url, "--arrival-rate", "10,20", "--duration", "0.4", "--timeout", "1",
                    "--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "r.png")]  # fmt: skip
            return await loop.run_in_executor(None, main, argv)

    assert asyncio.run(serve()) == 0
    out = capsys.readouterr().out
    assert "open loop" in out
    assert "10/s" in out
    assert "20/s" in out
    assert "largest arrival rate meeting the criterion" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["mode"] == "open"
    assert data["largest_rate_meeting"] == 20.0
    first = data["steps"][0]
    assert set(first["itl"]) == {"count", "p50_ms", "p90_ms", "p99_ms", "max_ms"}
    assert first["ttft"]["count"] == 4
    assert (tmp_path / "r.png").stat().st_size > 1000
