"""The runner: selection, extra clients only when needed, crash isolation, loop-stall records."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest

from conformance import checks
from conformance.capture import Capture, CaptureRequest, EndReason, IsLast, Limits, OnChunk, replay
from conformance.capture.model import DEFAULT_LIMITS
from conformance.checks.context import CheckContext
from conformance.checks.registry import CheckSpec
from conformance.contracts.follow_ups import FOLLOW_UPS
from conformance.models import Outcome, Severity, Verdict
from conformance.profiles import Profile, load_profile
from conformance.runner import EXTRA_CLIENTS, LoopLag, Progress, judge, run_suite
from tests.conformance.suite_helpers import frame, make, ram_messages

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"


@contextlib.asynccontextmanager
async def ram_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server sending the whole RAM stream to each connection; yields its URL and a
    one-item list counting the connections."""
    connections = [0]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(HEAD + b"".join(frame(ram_messages())))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/", connections
    finally:
        server.close()


async def test_only_and_skip_decide_which_clients_connect() -> None:
    profile = load_profile("ram-monitor").replace(interval=None, close_grace=0.5)
    async with ram_server() as (url, connections):
        report = await run_suite(url, profile, only=["http.*", "payload.*"])
        assert connections[0] == 1
        assert {r.check_id for r in report.results} == {
            s.id for s in checks.select(["http.*", "payload.*"])
        }
        assert report.exit_code() == 0
        connections[0] = 0
        report = await run_suite(url, profile, skip=["stream.disconnect", "reconnect.*"])
        assert connections[0] == 1 + profile.concurrency
        assert report.result("stream.concurrent").verdict is Verdict.PASS


def test_a_profile_runs_only_its_own_contract_checks_unless_named() -> None:
    """Other contracts' checks could only skip ("not an MCP server"): a run leaves them out."""
    contract_of = checks.registry.contract_of
    generic = {s.id for s in checks.select(contract=None)}
    assert "http.status" in generic
    assert "reconnect.resume" in generic
    assert all(contract_of(checks.registry.get(i)) is None for i in generic)
    openai = {s.id for s in checks.select(contract="openai-chat")}
    assert openai - generic == {"openai.chunk"}
    assert {s.id for s in checks.select(["mcp.*"], contract=None)} >= {"mcp.initialize"}
    everything = {s.id for s in checks.select()}  # no contract given: the whole catalogue
    assert {"openai.chunk", "mcp.initialize", "graphql.next"} <= everything


async def test_a_run_reports_no_other_contract_checks() -> None:
    profile = load_profile("ram-monitor").replace(interval=None, close_grace=0.5)
    async with ram_server() as (url, _):
        report = await run_suite(url, profile, skip=["stream.*", "reconnect.*", "browser.*"])
    ids = {r.check_id for r in report.results}
    assert "payload.ram-format" in ids
    assert "http.status" in ids
    assert not {i for i in ids if i.split(".")[0] in ("openai", "anthropic", "mcp", "graphql")}


def test_select_rejects_a_glob_matching_nothing() -> None:
    with pytest.raises(ValueError, match="no check matches"):
        checks.select(["htp.*"])
    assert [s.id for s in checks.select(["http.status"])] == ["http.status"]
    assert "http.status" not in {s.id for s in checks.select(skip=["http.*"])}


def test_a_crashing_check_fails_alone() -> None:
    def boom(ctx: CheckContext) -> Outcome:
        raise RuntimeError("oops")

    cap, profile = make(b"data: a\n\n")
    crashing = CheckSpec("x.boom", "boom", "", Severity.SHOULD, boom)
    results = judge(CheckContext(cap, profile), [crashing, checks.get("http.status")])
    assert results[0].verdict is Verdict.FAIL
    assert "suite bug" in results[0].reason
    assert results[1].verdict is Verdict.PASS


async def test_loop_lag_records_a_blocked_loop() -> None:
    with LoopLag() as lag:
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # noqa: ASYNC251 (the point: a blocking call the loop cannot run past)
        await asyncio.sleep(0.05)
    assert any(length > 0.1 for _, length in lag.stalls)


async def test_unreachable_target_exit_code_2() -> None:
    report = await run_suite("http://127.0.0.1:9/", load_profile("generic"), only=["http.status"])
    assert report.unreachable
    assert report.exit_code() == 2


async def test_progress_ticks_while_the_server_is_silent() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.7)
        writer.write(HEAD + b"data: late\n\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    seen: list[Progress] = []
    try:
        await run_suite(url, load_profile("generic"), only=["http.status"], progress=seen.append)
    finally:
        server.close()
    silent = [p for p in seen if p.phase == "capturing" and p.events == 0]
    assert len(silent) >= 2
    assert seen[-1].phase == "judging"
    assert seen[-1].events == 1


def test_every_need_of_the_catalogue_has_its_clients_and_its_context_field() -> None:
    needs = set().union(*(spec.needs for spec in checks.all_checks()))
    fields = {f.name for f in dataclasses.fields(CheckContext)}
    # every need is a generic client job (a CheckContext field of its name) or a contract's
    # follow-up (its record in CheckContext.extra), never both, never neither
    assert not set(EXTRA_CLIENTS) & set(FOLLOW_UPS)
    assert needs == set(EXTRA_CLIENTS) | set(FOLLOW_UPS)
    assert set(EXTRA_CLIENTS) <= fields


async def test_the_request_is_built_once_and_every_client_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[CaptureRequest] = []
    original = Profile.capture_request

    def counting(self: Profile, url: str) -> CaptureRequest:
        built.append(original(self, url))
        return built[-1]

    monkeypatch.setattr(Profile, "capture_request", counting)
    sent: list[tuple[CaptureRequest, int | None]] = []
    body = b"".join(frame(ram_messages()))

    async def fake_transport(
        request: CaptureRequest,
        limits: Limits = DEFAULT_LIMITS,
        *,
        is_last: IsLast | None = None,
        abort_after_events: int | None = None,
        progress: OnChunk | None = None,
    ) -> Capture:
        sent.append((request, abort_after_events))
        if abort_after_events is not None:
            return replay([(0.01, body[:60])], end_reason=EndReason.ABORTED, limits=limits)
        return replay(
            [(0.01 * (i + 1), b) for i, b in enumerate(frame(ram_messages()))], is_last=is_last
        )

    profile = load_profile("ram-monitor").replace(interval=None)
    report = await run_suite("http://fake.invalid/", profile, read_stream=fake_transport)
    assert len(built) == 1
    expected = 1 + profile.concurrency + profile.disconnect_clients + 1
    assert len(sent) == expected
    assert all(request is built[0] for request, _ in sent)
    aborting = [after for _, after in sent if after is not None]
    assert aborting == [profile.disconnect_after_events] * profile.disconnect_clients
    assert len(report.extra_captures["concurrent"]) == profile.concurrency
    assert len(report.extra_captures["disconnect"]) == profile.disconnect_clients + 1
    assert report.result("stream.concurrent").verdict is Verdict.PASS


def test_a_checks_contract_does_not_depend_on_sys_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytester's in-process runs take the modules they imported out of sys.modules again: a
    contract's checks then counted as generic (62 checks in a ram-monitor run instead of 39)."""
    import sys

    spec = checks.registry.get("openai.chunk")
    monkeypatch.delitem(sys.modules, spec.fn.__module__)
    assert checks.registry.contract_of(spec) == "openai-chat"


async def test_the_extra_clients_share_the_main_streams_bytes_and_events() -> None:
    """Issue 16 point 3: an extra client that read the main stream's very bytes keeps no copy of
    them (capture/lean.py); judged and reported, it reads as a whole capture of its own."""
    profile = load_profile("ram-monitor").replace(interval=None, close_grace=0.5)
    async with ram_server() as (url, _):
        report = await run_suite(url, profile, only=["stream.concurrent", "stream.disconnect"])
    main = report.capture
    assert report.result("stream.concurrent").verdict is Verdict.PASS
    extras = [*report.extra_captures["concurrent"], *report.extra_captures["disconnect"]]
    assert len(extras) == profile.concurrency + profile.disconnect_clients + 1
    for cap in extras:
        assert cap.events._offset is main.events._offset  # shared columns, not a copy
        assert [e.data for e in cap.events] == [e.data for e in main.events][: len(cap.events)]
        assert cap.body == main.body[: cap.decoded_bytes]
