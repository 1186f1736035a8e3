"""The mcp-streamable-http profile: fakes with one defect each, and the official MCP SDK's server."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conformance.capture.model import Capture
from conformance.capture.recorder import replay
from conformance.checks import registry
from conformance.checks.context import CheckContext
from conformance.contracts import mcp_session
from conformance.contracts.follow_ups import validate_profile
from conformance.contracts.mcp_session import Exchange, McpRun
from conformance.models import Outcome, OutcomeKind, Report, Verdict
from conformance.profiles import Profile, ProfileError, load_profile
from conformance.reports.html import render_html
from conformance.reports.json import report_to_dict
from conformance.runner import run_suite_sync
from testing.support import server_process, uvicorn_thread
from tests.integrations.mcp_fake import PATH, mcp_app
from tests.integrations.profile_runs import not_passing, run_app, verdicts

SDK_SERVER = Path(__file__).with_name("mcp_sdk_server.py")


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile("mcp-streamable-http").replace(deadline=10.0, idle_timeout=5.0)


def run(variant: str, profile: Profile) -> tuple[Report, list[dict[str, object]]]:
    return run_app(mcp_app(variant), PATH, profile, skip=())


def test_the_session_is_driven_in_order(profile: Profile) -> None:
    report, requests = run("good", profile)
    methods = [r["method"] for r in requests]
    # initialize, initialized, tools/list, tools/list without id, GET resume, DELETE, ping
    assert methods == ["POST", "POST", "POST", "POST", "GET", "DELETE", "POST"]
    first = requests[0]["headers"]
    assert isinstance(first, dict)
    assert first["accept"] == "application/json, text/event-stream"
    assert first["mcp-protocol-version"] == "2025-11-25"
    with_session = [r["headers"] for r in requests[1:]]
    assert [isinstance(h, dict) and "mcp-session-id" in h for h in with_session] == [
        True, True, False, True, True, True
    ]  # fmt: skip
    resume = requests[4]["headers"]
    assert isinstance(resume, dict)
    assert resume["last-event-id"] == "ev-3"  # the tools/list stream's priming id
    assert report.result("mcp.resume").verdict is Verdict.PASS
    # the JSON report lists the session's requests after the initialize POST (the main capture)
    session = [r for r in report_to_dict(report)["requests"] if r["source"] == "mcp"]
    assert [(r["label"], r["method"], r["status"]) for r in session] == [
        ("notifications/initialized POST", "POST", 202),
        ("tools/list POST", "POST", 200),
        ("tools/list POST without session id", "POST", 400),
        ("GET with Last-Event-ID", "GET", 200),
        ("DELETE", "DELETE", 200),
        ("ping POST after DELETE", "POST", 404),
    ]
    assert ["Last-Event-ID", "ev-3"] in session[3]["request_headers"]
    assert "Other requests (" in render_html(report)


@pytest.mark.parametrize("variant", ["good", "json"])
def test_valid_servers_pass(profile: Profile, variant: str) -> None:
    report, _ = run(variant, profile)
    assert not_passing(report) == []
    mcp_results = {r.check_id: r.verdict for r in report.results if r.check_id.startswith("mcp.")}
    expected_pass = {"mcp.content-type", "mcp.initialize", "mcp.session", "mcp.session-enforced"}
    expected_pass |= {"mcp.response-id", "mcp.delete"}
    if variant == "good":
        expected_pass |= {"mcp.priming", "mcp.resume"}
    assert {k for k, v in mcp_results.items() if v is Verdict.PASS} == expected_pass
    assert report.exit_code() == 0


def test_a_json_answer_skips_the_sse_checks_with_a_reason(profile: Profile) -> None:
    report, _ = run("json", profile)
    result = report.result("http.content-type")
    assert result.verdict is Verdict.SKIP
    assert "JSON answer" in result.reason
    assert report.result("mcp.response-id").reason.endswith("in the JSON body")


@pytest.mark.parametrize(
    ("variant", "failing", "warning", "reason_part"),
    [
        ("no-session", {"mcp.session"}, set(), "no Mcp-Session-Id"),
        ("session-not-enforced", set(), {"mcp.session-enforced"}, "not enforced"),
        ("wrong-content-type", {"http.content-type", "mcp.content-type"}, set(), "text/plain"),
    ],
)
def test_each_defect_fails_exactly_its_checks(
    profile: Profile, variant: str, failing: set[str], warning: set[str], reason_part: str
) -> None:
    report, _ = run(variant, profile)
    assert verdicts(report, Verdict.FAIL) == failing, not_passing(report)
    assert verdicts(report, Verdict.WARN) == warning, not_passing(report)
    first = report.result(sorted(failing or warning)[-1])
    assert reason_part in first.reason or any(reason_part in e.excerpt for e in first.evidence)
    assert first.evidence


def test_a_deleted_session_that_still_answers_fails() -> None:
    run_record = _run_with(delete_status=200, after_status=200)
    outcome = _judge("mcp.delete", run_record)
    assert outcome.kind is OutcomeKind.PROBLEM
    assert "not 404" in outcome.reason


def test_a_server_without_client_deletion_passes_with_405() -> None:
    outcome = _judge("mcp.delete", _run_with(delete_status=405, after_status=None))
    assert outcome.kind is OutcomeKind.PASS


def test_priming_and_retry_on_hand_built_streams() -> None:
    # through the registry: importing a check module at collection would change the catalogue order
    priming, retry = registry.get("mcp.priming").fn, registry.get("mcp.retry").fn
    primed = _sse(b"id: a\nretry: 500\ndata: \n\nid: b\ndata: {}\n\n")
    unprimed = _sse(b'id: b\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n')
    assert priming(_ctx(primed)).kind is OutcomeKind.PASS
    assert priming(_ctx(unprimed)).kind is OutcomeKind.WARN
    # closed before the response: retry first is what lets the client come back
    cut_with_retry = _sse(b"id: a\nretry: 500\ndata: \n\n")
    cut_without = _sse(b"id: a\ndata: \n\n")
    assert retry(_ctx(cut_with_retry)).kind is OutcomeKind.PASS
    assert retry(_ctx(cut_without)).kind is OutcomeKind.WARN
    assert retry(_ctx(unprimed)).kind is OutcomeKind.SKIP


def test_an_unsupported_protocol_version_is_refused_with_one_line(profile: Profile) -> None:
    newer = profile.replace(headers={**dict(profile.headers), "MCP-Protocol-Version": "2026-07-28"})
    with pytest.raises(ProfileError, match=r"'2026-07-28' is not supported.*2025-11-25") as info:
        validate_profile(newer)
    assert "\n" not in str(info.value)
    with pytest.raises(ProfileError, match=r"'2026-07-28' is not supported"):
        run_suite_sync("http://127.0.0.1:9/never-contacted", newer)  # refused before any request
    body = (profile.body or "").replace("2025-11-25", "2024-11-05")
    with pytest.raises(ProfileError, match="initialize body asks for"):
        validate_profile(profile.replace(body=body))


def test_other_profiles_send_no_mcp_request() -> None:
    app = mcp_app("good")
    with uvicorn_thread(app) as server:
        run_suite_sync(server.base_url + PATH, load_profile("generic"), only=["mcp.*"])
    assert [r["method"] for r in app.state.requests] == ["GET"]


needs_sdk = pytest.mark.skipif(
    importlib.util.find_spec("mcp") is None,
    reason="the MCP Python SDK is not installed (pip install '.[sdk-mcp]')",
)


@needs_sdk
@pytest.mark.parametrize("flags", [[], ["--json-response"], ["--resumable"]])
def test_the_official_sdk_server_passes(profile: Profile, flags: list[str]) -> None:
    with server_process([str(SDK_SERVER), *flags]) as server:
        report = run_suite_sync(server.base_url + "/mcp", profile)
    assert verdicts(report, Verdict.FAIL) == set(), not_passing(report)
    assert verdicts(report, Verdict.WARN) == set(), not_passing(report)
    for check_id in ("mcp.initialize", "mcp.session", "mcp.session-enforced", "mcp.delete"):
        assert report.result(check_id).verdict is Verdict.PASS, report.result(check_id)
    if flags == ["--resumable"]:
        assert report.result("mcp.priming").verdict is Verdict.PASS
        assert report.result("mcp.resume").verdict is Verdict.PASS


# Hand-built records for the checks no fake reaches.


def _cap(status: int, body: bytes = b"", ctype: str = "application/json") -> Capture:
    return replay([(0.0, body)], status=status, headers=[("content-type", ctype)])


def _sse(body: bytes) -> Capture:
    cap = _cap(200, body, "text/event-stream")
    cap.headers.append(("mcp-session-id", "s1"))
    return cap


def _ctx(main: Capture, run_record: McpRun | None = None) -> CheckContext:
    profile = load_profile("mcp-streamable-http")
    record = run_record or McpRun("2025-11-25", "s1", ())
    return CheckContext(main, profile, extra={"mcp": record})


def _run_with(delete_status: int, after_status: int | None) -> McpRun:
    exchanges = [Exchange(mcp_session.DELETE, _cap(delete_status))]
    if after_status is not None:
        exchanges.append(Exchange(mcp_session.AFTER_DELETE, _cap(after_status), 4))
    return McpRun("2025-11-25", "s1", tuple(exchanges))


def _judge(check_id: str, record: McpRun) -> Outcome:
    return registry.get(check_id).fn(_ctx(_sse(b"data: {}\n\n"), record))
