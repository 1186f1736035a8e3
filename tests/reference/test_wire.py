"""The wire contract of GET /api/stream, byte for byte, against a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from tests.reference.helpers import (
    SAMPLE,
    SENTINEL,
    AppFactory,
    expected_run,
    read_stream,
    serve,
)

TWO_SAMPLE_RUN = (
    b'id: 0\ndata: "Starting system RAM monitoring..."\n\n'
    b'id: 1\ndata: "2026-01-02 03:04:05 - RAM usage: 42.5% (3.40GB / 8.00GB)"\n\n'
    b'id: 2\ndata: "2026-01-02 03:04:05 - RAM usage: 42.5% (3.40GB / 8.00GB)"\n\n'
    b'id: 3\ndata: "RAM monitoring completed"\n\n'
)


def split_messages(body: bytes) -> list[bytes]:
    assert body.endswith(b"\n\n")
    return body[:-2].split(b"\n\n")


async def test_two_sample_run_exact_bytes_and_headers(build: AppFactory) -> None:
    built = build(samples=2)
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        response, body = await read_stream(client, "/api/stream")
    assert response.status_code == 200
    assert body == TWO_SAMPLE_RUN
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-length" not in response.headers
    assert "content-encoding" not in response.headers
    assert response.headers.get("transfer-encoding") == "chunked"


async def test_default_run_has_22_messages_with_ids_0_to_21(build: AppFactory) -> None:
    built = build()  # samples=20, as the contract's default
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        _, body = await read_stream(client, "/api/stream", headers={"Accept-Encoding": "gzip"})
    messages = split_messages(body)
    assert len(messages) == 22
    assert body == expected_run(20)
    for number, message in enumerate(messages):
        id_line, data_line = message.split(b"\n")
        assert id_line == b"id: %d" % number
        assert data_line.startswith(b"data: ")
        assert isinstance(json.loads(data_line[len(b"data: ") :]), str)
    assert json.loads(messages[-1].split(b"data: ")[1]) == "RAM monitoring completed"
    assert body.isascii()
    assert b"\r" not in body


async def test_samples_flag_changes_the_count_everywhere(build: AppFactory) -> None:
    built = build(samples=5)
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        _, body = await read_stream(client, "/api/stream")
        config = (await client.get("/api/config")).json()
    assert len(split_messages(body)) == 7
    assert config == {
        "samples": 5,
        "interval": 0.02,
        "total_messages": 7,
        "first_message": "Starting system RAM monitoring...",
        "sentinel": "RAM monitoring completed",
    }


async def test_one_psutil_call_per_interval_whatever_the_number_of_clients(
    build: AppFactory,
) -> None:
    built = build(samples=5)
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        bodies = await asyncio.gather(*(read_stream(client, "/api/stream") for _ in range(8)))
        health = (await client.get("/healthz")).json()
    assert all(body == expected_run(5) for _, body in bodies)
    # 8 clients x 6 samples would be 48 calls per-client; shared, it is one call per interval
    # (streams started at slightly different phases still share each interval's one read).
    assert built.memory.calls == health["sampler_ticks"]
    assert 6 <= built.memory.calls <= 20


@pytest.mark.parametrize("last_id", [0, 1, 5, 19, 20])
async def test_last_event_id_resumes_with_the_next_message(build: AppFactory, last_id: int) -> None:
    built = build()
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        response, body = await read_stream(
            client, "/api/stream", headers={"Last-Event-ID": str(last_id)}
        )
    assert response.status_code == 200
    assert body == expected_run(20, first_id=last_id + 1)
    assert body.startswith(b"id: %d\n" % (last_id + 1))
    assert body.endswith(b"id: 21\n" + SENTINEL)


async def test_last_event_id_of_the_sentinel_gets_204(build: AppFactory) -> None:
    built = build()
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/api/stream", headers={"Last-Event-ID": "21"})
        health = (await client.get("/healthz")).json()
    assert response.status_code == 204
    assert response.content == b""
    assert health["streams_started"] == 0
    assert health["stream_requests"] == 1


@pytest.mark.parametrize(
    "value", ["22", "-1", "abc", "1.5", "1e3", "3x", "0x1", "99999999999999", "+1"]
)
async def test_bad_last_event_id_gets_400_with_a_reason(build: AppFactory, value: str) -> None:
    built = build()
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/api/stream", headers={"Last-Event-ID": value})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["error"] == "invalid_last_event_id"
    assert "0 to 21" in payload["message"]


async def test_empty_last_event_id_is_a_fresh_run(build: AppFactory) -> None:
    built = build(samples=1)
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        _, body = await read_stream(client, "/api/stream", headers={"Last-Event-ID": ""})
    assert body == expected_run(1)


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_get_405_allow_get(build: AppFactory, method: str) -> None:
    built = build()
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.request(method, "/api/stream")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


async def test_503_with_retry_after_beyond_max_streams(build: AppFactory) -> None:
    built = build(max_streams=2, samples=1000)
    async with serve(built.app) as base, httpx.AsyncClient(base_url=base) as client:
        async with (
            client.stream("GET", "/api/stream") as one,
            client.stream("GET", "/api/stream") as two,
        ):
            assert one.status_code == two.status_code == 200
            refused = await client.get("/api/stream")
            health = (await client.get("/healthz")).json()
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()["error"] == "unavailable"
        assert "max 2" in refused.json()["message"]
        assert health["open_streams"] == 2
        assert health["streams_refused"] == 1
        # The server is unharmed: once the two streams are gone, a new one is served in full.
        for _ in range(200):
            if (await client.get("/healthz")).json()["open_streams"] == 0:
                break
            await asyncio.sleep(0.02)
        ok = await client.get("/api/stream", headers={"Last-Event-ID": "1000"})
    assert ok.status_code == 200
    assert ok.content == b"id: 1001\n" + SENTINEL


def test_sample_line_matches_the_demo_format() -> None:
    text = json.loads(SAMPLE[len(b"data: ") : -2])
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - RAM usage: \d+(\.\d+)?% \(\d+\.\d\dGB / \d+\.\d\dGB\)",
        text,
    )
