"""The openai-responses profile against a fake Responses API server, and the SDK against the fake.

Each defect of the fake fails exactly its checks in a full run; the valid streams pass everything
and the official ``openai`` SDK parses them to the final response, so the fake is the real shape.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from conformance.cli import main as cli_main
from conformance.models import Report, Verdict
from conformance.profiles import Profile, load_profile
from testing.support import uvicorn_thread
from tests.conformance.suite_helpers import make, run_check, timed
from tests.integrations.profile_runs import MAIN_ONLY, not_passed, run_app, tight_profile
from tests.integrations.responses_fake import PATH, TEXT, events, frames, responses_app

CHECKS = (
    "openai.event-name",
    "openai.sequence",
    "openai.terminal",
    "openai.no-done",
    "openai.error",
    "openai.delta-item",
)


@pytest.fixture(scope="module")
def profile() -> Profile:
    return tight_profile("openai-responses")


def run(
    variant: str, profile: Profile, skip: tuple[str, ...] = MAIN_ONLY
) -> tuple[Report, list[dict[str, object]]]:
    return run_app(responses_app(variant), PATH, profile, skip)


def test_profile_sends_a_streaming_responses_request(profile: Profile) -> None:
    report, requests = run("good", profile)
    first = requests[0]
    body = first["body"]
    assert isinstance(body, dict)
    assert body["stream"] is True
    assert isinstance(body["input"], str)
    headers = first["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "text/event-stream"
    assert report.capture.request.method == "POST"
    assert report.profile.sentinel is None
    assert report.profile.event_type is None


def test_a_valid_stream_passes_every_check(profile: Profile) -> None:
    report, requests = run("good", profile, skip=())
    assert len(requests) == 1 + 2 + 1 + 1  # main, 2 concurrent, 1 aborting, 1 follow-up
    assert not_passed(report) == {}, [
        (r.check_id, r.reason) for r in report.results if r.verdict is not Verdict.PASS
    ]
    for check_id in (*CHECKS, "stream.concurrent", "stream.disconnect", "payload.json"):
        assert report.result(check_id).verdict is Verdict.PASS, report.result(check_id)
    assert report.result("payload.event-type").verdict is Verdict.SKIP  # named events are fine
    assert "response.completed is the last" in report.result("openai.terminal").reason
    assert report.exit_code() == 0


def test_an_incomplete_response_warns_and_says_why(profile: Profile) -> None:
    report, _ = run("incomplete", profile)
    assert not_passed(report) == {"openai.terminal": Verdict.WARN}
    assert "max_output_tokens" in report.result("openai.terminal").reason
    assert report.exit_code() == 0


@pytest.mark.parametrize(
    ("variant", "failing", "reason_part"),
    [
        ("name-mismatch", {"openai.event-name"}, "event: 'response.text.delta' but data type"),
        ("sequence", {"openai.sequence"}, "sequence_number 5 after 6"),
        ("no-terminal", {"openai.terminal"}, "no terminal event"),
        ("done", {"openai.no-done", "payload.json"}, "data: [DONE]"),
        ("error", {"openai.error"}, "server_error: 'The server had an error"),
        ("unannounced-delta", {"openai.delta-item"}, "not announced by output_item.added"),
    ],
)
def test_each_defect_fails_exactly_its_checks(
    profile: Profile, variant: str, failing: set[str], reason_part: str
) -> None:
    report, _ = run(variant, profile)
    assert not_passed(report) == dict.fromkeys(failing, Verdict.FAIL), [
        (r.check_id, r.reason) for r in report.results if r.verdict is not Verdict.PASS
    ]
    contract_check = next(c for c in sorted(failing) if c.startswith("openai."))
    result = report.result(contract_check)
    assert reason_part in result.reason
    assert result.evidence
    assert all(e.offset is not None for e in result.evidence)  # byte offsets into the body
    assert report.exit_code() == 1


def test_a_chat_profile_does_not_judge_a_responses_stream() -> None:
    cap, profile = make(timed(frames("good")), profile=load_profile("openai-chat"))
    for check_id in CHECKS:
        assert run_check(check_id, cap, profile).verdict is Verdict.SKIP


def responses_profile() -> Profile:
    return load_profile("openai-responses")


def stream_of(*blocks: str) -> list[tuple[float, bytes]]:
    return timed([b.encode() for b in blocks])


def test_terminal_rejects_two_terminal_events_and_events_after_one() -> None:
    completed = (
        'event: response.completed\ndata: {"type": "response.completed", "sequence_number": %d}\n\n'
    )
    delta = (
        "event: response.output_text.delta\n"
        'data: {"type": "response.output_text.delta", "sequence_number": %d, "item_id": "m"}\n\n'
    )
    cap, profile = make(stream_of(completed % 0, completed % 1), profile=responses_profile())
    result = run_check("openai.terminal", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert "2 terminal events" in result.reason
    cap, profile = make(stream_of(completed % 0, delta % 1), profile=responses_profile())
    result = run_check("openai.terminal", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert "1 event after the terminal response.completed" in result.reason


def test_sequence_needs_an_integer_on_every_event() -> None:
    cap, profile = make(
        stream_of(
            'event: response.created\ndata: {"type": "response.created", "sequence_number": 0}\n\n',
            'event: response.in_progress\ndata: {"type": "response.in_progress"}\n\n',
            'event: response.done\ndata: {"type": "response.done", "sequence_number": true}\n\n',
        ),
        profile=responses_profile(),
    )
    result = run_check("openai.sequence", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("2 of 3 events break the sequence")


def test_delta_after_its_item_is_done_fails() -> None:
    good = [json.loads(f.decode().split("data: ", 1)[1]) for f in frames("good")]
    done_at = next(i for i, e in enumerate(good) if e["type"] == "response.output_item.done")
    good.insert(done_at + 1, dict(good[4]))  # a delta re-sent after its item closed
    blocks = [
        f"event: {e['type']}\ndata: {json.dumps(dict(e, sequence_number=i))}\n\n"
        for i, e in enumerate(good)
    ]
    cap, profile = make(stream_of(*blocks), profile=responses_profile())
    result = run_check("openai.delta-item", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert run_check("openai.sequence", cap, profile).verdict is Verdict.PASS
    assert "after its output_item.done" in result.reason


def test_a_nested_error_object_is_reported_with_its_message() -> None:
    cap, profile = make(
        stream_of(
            'event: error\ndata: {"type": "error", "sequence_number": 0, '
            '"error": {"type": "rate_limit_error", "message": "slow down"}}\n\n'
        ),
        profile=responses_profile(),
    )
    result = run_check("openai.error", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert "rate_limit_error: 'slow down'" in result.reason


# --- the official SDK against the fake: the valid stream is what the real API sends -------------


def sdk_client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url + "/v1", api_key="sk-dummy", max_retries=0)


def test_the_sdk_stream_helper_rebuilds_the_final_response() -> None:
    with uvicorn_thread(responses_app("good", delay=0.0)) as server:
        client = sdk_client(server.base_url)
        with client.responses.stream(model="gpt-4o-mini", input="Count to 5.") as stream:
            seen = [event.type for event in stream]
            final = stream.get_final_response()
    assert seen == [name for name, _ in events("good")]
    assert final.status == "completed"
    assert final.output_text == TEXT
    assert final.usage is not None
    assert final.usage.total_tokens == 24


def test_the_sdk_create_stream_parses_every_event_in_order() -> None:
    with uvicorn_thread(responses_app("good", delay=0.0)) as server:
        stream = sdk_client(server.base_url).responses.create(
            model="gpt-4o-mini", input="Count to 5.", stream=True
        )
        parsed = list(stream)
    assert [e.type for e in parsed] == [name for name, _ in events("good")]
    assert [e.sequence_number for e in parsed] == list(range(len(parsed)))
    assert "".join(e.delta for e in parsed if e.type == "response.output_text.delta") == TEXT
    assert parsed[-1].type == "response.completed"
    assert parsed[-1].response.output_text == TEXT


def test_the_sdk_stream_helper_breaks_on_a_delta_of_an_unannounced_item() -> None:
    # Why openai.delta-item is a MUST: the helper looks the item up and fails.
    with uvicorn_thread(responses_app("unannounced-delta", delay=0.0)) as server:
        client = sdk_client(server.base_url)
        with (
            pytest.raises(RuntimeError, match="before receiving its output item"),
            client.responses.stream(model="gpt-4o-mini", input="Count to 5.") as stream,
        ):
            for _ in stream:
                pass


# --- credentials never reach a report -----------------------------------------------------------


def test_credentials_are_redacted_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-proj-SECRETSECRET0123456789"
    reports = {
        "--json-report": tmp_path / "r.json",
        "--junit-xml": tmp_path / "r.xml",
        "--html-report": tmp_path / "r.html",
    }
    app = responses_app("good", delay=0.0)
    with uvicorn_thread(app) as server:
        args = [server.base_url + PATH, "--profile", "openai-responses"]
        args += ["-H", f"Authorization: Bearer {secret}"]
        args += ["--skip", "stream.con*,stream.dis*"]
        for flag, path in reports.items():
            args += [flag, str(path)]
        code = cli_main(args)
    assert code == 0
    assert app.state.requests[0]["headers"]["authorization"] == f"Bearer {secret}"  # it was sent
    out, err = capsys.readouterr()
    assert secret not in out + err
    for path in reports.values():
        text = path.read_text(encoding="utf-8")
        assert secret not in text, path.name
    summary = json.loads(reports["--json-report"].read_text(encoding="utf-8"))
    shown = json.dumps(summary)
    assert "Authorization" in shown
    assert "<redacted" in shown
