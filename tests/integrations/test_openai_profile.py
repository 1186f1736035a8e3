"""The openai-chat profile against a fake OpenAI-compatible server: each defect fails its check."""

from __future__ import annotations

import pytest

from conformance.models import Report, Verdict
from conformance.profiles import Profile, load_profile
from conformance.runner import run_suite_sync
from testing.support import uvicorn_thread
from tests.integrations.fetch_only import without_fetch_only
from tests.integrations.openai_fake import PATH, openai_app


@pytest.fixture(scope="module")
def profile() -> Profile:
    # Tight limits keep the broken variants short; everything else is the shipped profile.
    return load_profile("openai-chat").replace(
        close_grace=0.6, idle_timeout=5.0, deadline=15.0, first_event_timeout=5.0
    )


# The extra clients re-judge the main stream's defects on their own streams; the matrix leaves
# them out so each row names exactly the check that must fail (the valid variants run them).
MAIN_ONLY = ("stream.concurrent", "stream.disconnect")


def run(
    variant: str, profile: Profile, skip: tuple[str, ...] = MAIN_ONLY
) -> tuple[Report, list[dict[str, object]]]:
    app = openai_app(variant)
    with uvicorn_thread(app) as server:
        report = run_suite_sync(server.base_url + PATH, profile, skip=skip)
    return report, app.state.requests


def verdicts(report: Report, verdict: Verdict) -> set[str]:
    return {r.check_id for r in without_fetch_only(report) if r.verdict is verdict}


def test_profile_sends_a_streaming_chat_request(profile: Profile) -> None:
    report, requests = run("good", profile)
    assert requests, "the server saw no request"
    first = requests[0]
    body = first["body"]
    assert isinstance(body, dict)
    assert body["stream"] is True
    assert body["messages"][0]["role"] == "user"
    headers = first["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "text/event-stream"
    assert report.capture.request.method == "POST"


@pytest.mark.parametrize("variant", ["good", "usage"])
def test_valid_streams_pass(profile: Profile, variant: str) -> None:
    report, requests = run(variant, profile, skip=())
    # main, 2 concurrent, 1 aborting, 1 follow-up (a POST: no reconnecting client)
    assert len(requests) == 1 + 2 + 1 + 1
    assert report.result("stream.concurrent").verdict is Verdict.PASS
    assert report.result("stream.disconnect").verdict is Verdict.PASS
    assert verdicts(report, Verdict.FAIL) == set(), [
        r for r in report.results if r.verdict is Verdict.FAIL
    ]
    assert verdicts(report, Verdict.WARN) == set(), [
        r for r in report.results if r.verdict is Verdict.WARN
    ]
    assert report.result("openai.chunk").verdict is Verdict.PASS
    assert report.result("payload.sentinel").verdict is Verdict.PASS
    assert report.result("payload.json").verdict is Verdict.PASS  # [DONE] is not judged as JSON
    assert report.exit_code() == 0


@pytest.mark.parametrize(
    ("variant", "failing", "reason_part"),
    [
        ("no-done", {"payload.sentinel"}, "never arrived"),
        ("after-done", {"payload.sentinel"}, "after it"),
        ("open-after-done", {"stream.closes"}, ""),
        ("message-shape", {"openai.chunk"}, "'message' (the non-streaming shape)"),
        ("error-midstream", {"openai.chunk"}, "The server is overloaded"),
        ("not-json", {"openai.chunk", "payload.json"}, "not JSON"),
        ("buffered", {"stream.incremental"}, "buffered"),
        ("done-unterminated", {"framing.terminated", "payload.sentinel"}, ""),
    ],
)
def test_broken_streams_fail_for_the_right_reason(
    profile: Profile, variant: str, failing: set[str], reason_part: str
) -> None:
    report, _ = run(variant, profile)
    failed = verdicts(report, Verdict.FAIL)
    assert failed == failing, [
        (r.check_id, r.reason) for r in report.results if r.verdict is Verdict.FAIL
    ]
    first = report.result(sorted(failing)[0])
    assert reason_part in first.reason
    assert first.evidence or first.check_id == "stream.closes"
    assert report.exit_code() == 1


def test_missing_finish_reason_warns(profile: Profile) -> None:
    report, _ = run("no-finish", profile)
    assert verdicts(report, Verdict.FAIL) == set()
    result = report.result("openai.chunk")
    assert result.verdict is Verdict.WARN
    assert "finish_reason" in result.reason


def test_a_get_is_refused_so_the_method_matters(profile: Profile) -> None:
    report, _ = run("good", profile.replace(method="GET", body=None))
    assert report.result("http.status").verdict is Verdict.FAIL
    assert "405" in report.result("http.status").reason


def test_forgetting_stream_true_fails_on_content_type(profile: Profile) -> None:
    report, _ = run("good", profile.replace(body='{"model": "m", "messages": []}'))
    assert report.result("http.content-type").verdict is Verdict.FAIL
