"""Real endless endpoints at their default 15 s ping: sse-starlette and FastAPI's own fastapi.sse.

Each sends an event at once and then one every 20 s, so the connection lives on their pings
alone between events; judged with ``--hold 40`` they must pass with no fail (issue 12). Slow
(about 45 s, both held at once): ``nox -s slow`` and CI run them, plain ``nox -s tests`` does not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from fastapi.sse import EventSourceResponse as FastApiEventSource
from fastapi.sse import ServerSentEvent as FastApiEvent
from sse_starlette.sse import EventSourceResponse as StarletteEventSource

from conformance.capture.model import EndReason
from conformance.models import Report, Verdict
from conformance.profiles import load_profile
from conformance.runner import run_suite
from testing.support import uvicorn_thread

HOLD = 40.0
EVERY = 20.0  # longer than the 15 s ping: the pings carry the connection between events


def endless_app() -> FastAPI:
    app = FastAPI()

    async def ticks(request: Request) -> AsyncIterator[int]:
        # a well-kept feed resumes after the Last-Event-ID a reconnecting browser sends
        last = (request.headers.get("last-event-id") or "").strip()
        index = int(last) + 1 if last.isdigit() else 0
        while True:
            yield index
            index += 1
            await asyncio.sleep(EVERY)

    @app.get("/starlette")
    async def starlette_stream(request: Request) -> StarletteEventSource:
        async def events() -> AsyncIterator[dict[str, str]]:
            async for index in ticks(request):
                yield {"id": str(index), "data": json.dumps({"tick": index})}

        return StarletteEventSource(events())  # default ping: 15 s

    @app.get("/fastapi", response_class=FastApiEventSource)
    async def fastapi_stream(request: Request) -> AsyncIterator[FastApiEvent]:
        async for index in ticks(request):  # fastapi.sse pings after 15 s without an event
            yield FastApiEvent(id=str(index), data={"tick": index})

    return app


def problems(report: Report) -> dict[str, str]:
    return {
        r.check_id: f"{r.verdict}: {r.reason}"
        for r in report.results
        if r.verdict in (Verdict.FAIL, Verdict.WARN)
    }


@pytest.mark.slow
async def test_sse_starlette_and_fastapi_sse_pass_a_held_run() -> None:
    profile = load_profile("generic").replace(hold=HOLD)
    with uvicorn_thread(endless_app()) as server:
        reports = await asyncio.gather(
            run_suite(server.base_url + "/starlette", profile),
            run_suite(server.base_url + "/fastapi", profile),
        )
    for report in reports:
        cap = report.capture
        assert cap.end_reason is EndReason.HELD, (report.target, cap.end_message)
        assert report.exit_code() == 0, (report.target, problems(report))
        assert not [k for k, v in problems(report).items() if v.startswith("fail")]
        assert cap.comments >= 2, report.target  # the pings did the work
        heartbeat = report.result("stream.heartbeat")
        assert heartbeat.verdict is Verdict.PASS, heartbeat.reason
        assert len(cap.events) >= 2
