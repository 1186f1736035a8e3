"""The load runner against tiny raw servers, one failure mode each: errors land in their kind."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from conformance.load.cli import main
from conformance.load.runner import LoadConfig, run_load
from testing.support import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/stream"
    finally:
        server.close()
        # connections still open (a handler that never answers) are dropped with the loop


async def run(url: str, **overrides: object) -> dict[str, int]:
    config = LoadConfig(url=url, steps=[2], hold=0.3, timeout=0.5, **overrides)  # type: ignore[arg-type]
    report = await run_load(config)
    assert len(report.steps) == 1
    return report.steps[0].errors


def answer(status: bytes, extra: bytes = b"") -> Handler:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 " + status + b"\r\n" + extra + b"Content-Length: 0\r\n\r\n")
        await writer.drain()

    return handler


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (b"500 Oops", "http-5xx"),
        (b"502 Bad Gateway", "http-5xx"),
        (b"401 Unauthorized", "http-4xx"),
        (b"404 Not Found", "http-4xx"),
        (b"302 Found", "non-200"),
        (b"204 No Content", "non-200"),
    ],
)
async def test_statuses_land_in_their_kind_with_the_status_counted(
    status: bytes, kind: str
) -> None:
    async with raw_server(answer(status)) as url:
        report = await run_load(LoadConfig(url=url, steps=[2], hold=0.3, timeout=0.5))
    step = report.steps[0]
    assert set(step.errors) == {kind}
    assert set(step.statuses) == {status[:3].decode()}
    assert sum(step.statuses.values()) == step.errors[kind]


async def test_429_is_refused_with_its_retry_after_counted_and_honoured() -> None:
    async with raw_server(answer(b"429 Too Many Requests", b"Retry-After: 2\r\n")) as url:
        report = await run_load(LoadConfig(url=url, steps=[3], hold=0.5, timeout=0.3))
    step = report.steps[0]
    assert set(step.errors) == {"refused"}
    assert step.statuses == {"429": step.errors["refused"]}
    assert step.retry_after == {"2": step.errors["refused"]}
    # each of the 3 streams waits the 2 s Retry-After before its replacement: no second answer
    assert step.errors["refused"] == 3


async def test_503_is_refused_with_its_status() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()

    async with raw_server(handler) as url:
        report = await run_load(LoadConfig(url=url, steps=[2], hold=0.3, timeout=0.5))
    step = report.steps[0]
    assert set(step.errors) == {"refused"}
    assert set(step.statuses) == {"503"}
    assert not step.meets


async def test_close_before_head_is_early_close() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        return None

    async with raw_server(handler) as url:
        errors = await run(url)
    assert set(errors) == {"early-close"}


async def test_silent_server_is_timeout() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    async with raw_server(handler) as url:
        errors = await run(url)
    assert set(errors) == {"timeout:head"}  # silent while the head is awaited


async def test_bad_chunk_is_protocol() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD + b"zz\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    async with raw_server(handler) as url:
        errors = await run(url)
    assert set(errors) == {"protocol"}


async def test_closed_port_is_refused() -> None:
    errors = await run(f"http://127.0.0.1:{free_port()}/")
    assert set(errors) == {"refused"}


def short_stream(events: int) -> Handler:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        for n in range(events):
            writer.write(chunk(b"id: %d\ndata: x\n\n" % n))
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return handler


async def test_normal_end_is_not_an_error_and_is_replaced() -> None:
    async with raw_server(short_stream(3)) as url:
        report = await run_load(LoadConfig(url=url, steps=[2], hold=0.6, timeout=0.5))
    step = report.steps[0]
    assert step.errors == {}
    assert step.ended >= 4  # streams of ~60 ms, each replaced at once
    assert step.events > 0


async def test_fewer_events_than_min_events_is_early_close() -> None:
    async with raw_server(short_stream(3)) as url:
        errors = await run(url, min_events=5)
    assert set(errors) == {"early-close"}


async def test_a_stream_the_server_ends_is_an_error_only_when_endless() -> None:
    async with raw_server(short_stream(3)) as url:
        endless = await run_load(
            LoadConfig(url=url, steps=[2], hold=0.6, timeout=0.5, endless=True)
        )
        finite = await run_load(LoadConfig(url=url, steps=[2], hold=0.6, timeout=0.5))
    assert set(endless.steps[0].errors) == {"early-close"}
    assert finite.steps[0].errors == {}


async def test_id_gap_counts_missing_events() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        for n in (0, 1, 4, 5):  # 2 and 3 never sent
            writer.write(chunk(b"id: %d\ndata: x\n\n" % n))
            await writer.drain()
            await asyncio.sleep(0.05)
        await asyncio.sleep(5)

    async with raw_server(handler) as url:
        report = await run_load(LoadConfig(url=url, steps=[1], hold=0.5, timeout=2))
    assert report.steps[0].missing == 2
    assert not report.steps[0].delivered


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ftp://x/"], "not an http(s) URL"),
        (["http://127.0.0.1:1/", "--steps", "500,100"], "must not decrease"),
        (["http://127.0.0.1:1/", "--steps", "a,b"], "comma-separated integers"),
        (["http://127.0.0.1:1/", "--streams", "20000"], "above --max-streams-cap 10000"),
        (["http://127.0.0.1:1/", "--streams", "0"], ">= 1"),
        (["http://127.0.0.1:1/", "--duration", "0"], "--duration"),
        (["http://127.0.0.1:1/", "--duration", "99999"], "--duration"),
        (["http://127.0.0.1:1/", "--ramp", "0"], "--ramp"),
        (["http://127.0.0.1:1/", "--interval", "-1"], "--interval"),
        (["http://127.0.0.1:1/", "--header", "nocolon"], "is not 'Name: value'"),
        (["http://127.0.0.1:1/", "--bogus"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert err.startswith("sse-conformance load: error: ")


def test_unreachable_target_reports_refused_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "load.json"
    url = f"http://127.0.0.1:{free_port()}/api/stream"
    argv = [url, "--streams", "3", "--duration", "0.3", "--timeout", "0.3", "--json", str(out)]
    assert main(argv) == 1
    report = json.loads(out.read_text())
    assert report["steps"][0]["errors"]["refused"] >= 3
    assert report["largest_meeting"] == 0
    assert "refused=" in capsys.readouterr().out


async def test_late_events_are_measured_against_the_cadence() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        writer.write(HEAD + chunk(b"data: first\n\n"))
        for k in range(1, 40):
            due = start + 0.05 + k * 0.1 + (0.4 if k % 4 == 0 else 0.0)  # every 4th 400 ms late
            await asyncio.sleep(max(0.0, due - loop.time()))
            writer.write(chunk(b"data: %d\n\n" % k))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async with raw_server(handler) as url:
        config = LoadConfig(url=url, steps=[3], hold=2.5, timeout=2, interval=0.1)
        report = await run_load(config)
    step = report.steps[0]
    assert step.errors == {}
    assert step.delivered
    assert step.lateness.max >= 0.35  # noise can only add lateness to the late ones
    assert step.lateness.p99 >= 0.3
    assert not step.meets


async def test_each_error_kind_keeps_its_first_detail_in_the_table_and_json() -> None:
    """tls=5 or protocol-error=3 alone does not say what to fix: the first detail of each kind
    is kept (bounded: one text a kind), shown under the table and in --json."""
    from conformance.load.merge import merge_steps
    from conformance.load.report import table

    async with raw_server(answer(b"500 Oops")) as url:
        report = await run_load(LoadConfig(url=url, steps=[2], hold=0.3, timeout=0.5))
    step = report.steps[0]
    assert step.error_details == {"http-5xx": "HTTP 500"}
    assert step.as_dict()["error_details"] == {"http-5xx": "HTTP 500"}
    assert "  http-5xx, the first: HTTP 500" in table(report).splitlines()
    merged = merge_steps([step, step], p99_limit=0.25, ttft_limit=None)
    assert merged.error_details == {"http-5xx": "HTTP 500"}
