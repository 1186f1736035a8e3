"""The anthropic-messages profile against a fake Messages API server, and the SDK against the fake.

Each defect of the fake fails exactly its checks in a full run; the valid streams (pings
interleaved, a tool_use block) pass everything and the official ``anthropic`` SDK parses them to
the final message, so the fake is the real shape.
"""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import pytest

from conformance.cli import main as cli_main
from conformance.models import Report, Verdict
from conformance.profiles import Profile, load_profile
from testing.support import uvicorn_thread
from tests.conformance.suite_helpers import make, run_check, timed
from tests.integrations.anthropic_fake import PATH, TEXT, anthropic_app, events, frames
from tests.integrations.profile_runs import MAIN_ONLY, not_passed, run_app, tight_profile

CHECKS = ("anthropic.event-name", "anthropic.order", "anthropic.block-index", "anthropic.error")


@pytest.fixture(scope="module")
def profile() -> Profile:
    return tight_profile("anthropic-messages")


def run(
    variant: str, profile: Profile, skip: tuple[str, ...] = MAIN_ONLY
) -> tuple[Report, list[dict[str, object]]]:
    return run_app(anthropic_app(variant), PATH, profile, skip)


def test_profile_sends_a_streaming_messages_request(profile: Profile) -> None:
    report, requests = run("good", profile)
    first = requests[0]
    body = first["body"]
    assert isinstance(body, dict)
    assert body["stream"] is True
    assert body["messages"][0]["role"] == "user"
    assert isinstance(body["max_tokens"], int)
    headers = first["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "application/json"
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["accept"] == "text/event-stream"
    assert report.capture.request.method == "POST"


def test_without_the_version_header_the_api_refuses(profile: Profile) -> None:
    headers = tuple(h for h in profile.headers if h[0] != "anthropic-version")
    report, _ = run("good", profile.replace(headers=headers))
    assert report.result("http.status").verdict is Verdict.FAIL
    assert "400" in report.result("http.status").reason


@pytest.mark.parametrize("variant", ["good", "tool-use"])
def test_valid_streams_with_pings_pass_every_check(profile: Profile, variant: str) -> None:
    report, requests = run(variant, profile, skip=())
    assert len(requests) == 1 + 2 + 1 + 1  # main, 2 concurrent, 1 aborting, 1 follow-up
    assert not_passed(report) == {}, [
        (r.check_id, r.reason) for r in report.results if r.verdict is not Verdict.PASS
    ]
    for check_id in (*CHECKS, "stream.concurrent", "stream.disconnect", "payload.json"):
        assert report.result(check_id).verdict is Verdict.PASS, report.result(check_id)
    assert any(e.type == "ping" for e in report.capture.events)
    assert report.result("payload.event-type").verdict is Verdict.SKIP  # named events are fine
    blocks = 2 if variant == "tool-use" else 1
    assert f"{blocks} content block" in report.result("anthropic.block-index").reason
    stop = "tool_use" if variant == "tool-use" else "end_turn"
    assert f"stop_reason '{stop}'" in report.result("anthropic.error").reason
    assert report.exit_code() == 0


@pytest.mark.parametrize(
    ("variant", "failing", "reason_part"),
    [
        ("unnamed", {"anthropic.event-name"}, "no 'event:' name (type 'message')"),
        ("no-stop", {"anthropic.order"}, "no message_stop: the stream ended after message_delta"),
        (
            "delta-before-start",
            {"anthropic.order"},
            "event 3: content_block_delta in the message, outside a content block",
        ),
        ("index-mismatch", {"anthropic.block-index"}, "content_block_delta index 1 inside block 0"),
        ("error-midstream", {"anthropic.error"}, "overloaded_error: 'Overloaded'"),
    ],
)
def test_each_defect_fails_exactly_its_checks(
    profile: Profile, variant: str, failing: set[str], reason_part: str
) -> None:
    report, _ = run(variant, profile)
    assert not_passed(report) == dict.fromkeys(failing, Verdict.FAIL), [
        (r.check_id, r.reason) for r in report.results if r.verdict is not Verdict.PASS
    ]
    result = report.result(sorted(failing)[0])
    assert reason_part in result.reason
    assert result.evidence
    assert all(e.offset is not None for e in result.evidence)  # byte offsets into the body
    assert report.exit_code() == 1


def test_an_error_ends_the_grammar_early_but_nothing_may_follow_message_stop() -> None:
    profile = load_profile("anthropic-messages")
    cap, _ = make(timed(frames("error-midstream")), profile=profile)
    assert "until the error event 7" in run_check("anthropic.order", cap, profile).reason
    late = [*frames("good"), b'event: ping\ndata: {"type": "ping"}\n\n', *frames("good")[-1:]]
    cap, _ = make(timed(late), profile=profile)
    result = run_check("anthropic.order", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert "message_stop after message_stop" in result.reason  # pings may come anywhere


def test_a_start_whose_index_skips_one_fails() -> None:
    profile = load_profile("anthropic-messages")
    data = [e for e in events("tool-use")]
    starts = [e for e in data if e["type"] == "content_block_start"]
    second = data.index(starts[1])
    for e in data[second:]:
        if e["type"].startswith("content_block"):
            e["index"] = 2
    blocks = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in data]
    cap, _ = make(timed(blocks), profile=profile)
    result = run_check("anthropic.block-index", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert "content_block_start index 2, expected 1" in result.reason
    assert run_check("anthropic.order", cap, profile).verdict is Verdict.PASS


def test_an_openai_profile_does_not_judge_a_messages_stream() -> None:
    cap, profile = make(timed(frames("good")), profile=load_profile("openai-responses"))
    for check_id in CHECKS:
        assert run_check(check_id, cap, profile).verdict is Verdict.SKIP


# --- the official SDK against the fake: the valid streams are what the real API sends ----------


def sdk_client(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-dummy", max_retries=0)


MODEL = "claude-haiku-4-5"
ASK: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Count to 5."}]


def test_the_sdk_stream_helper_rebuilds_the_final_message() -> None:
    with (
        uvicorn_thread(anthropic_app("good", delay=0.0)) as server,
        sdk_client(server.base_url).messages.stream(
            model=MODEL, max_tokens=64, messages=ASK
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == TEXT
    assert final.stop_reason == "end_turn"
    assert [block.type for block in final.content] == ["text"]
    assert final.usage.output_tokens == 9


def test_the_sdk_rebuilds_a_tool_use_block_from_its_json_deltas() -> None:
    with (
        uvicorn_thread(anthropic_app("tool-use", delay=0.0)) as server,
        sdk_client(server.base_url).messages.stream(
            model=MODEL, max_tokens=64, messages=ASK
        ) as stream,
    ):
        final = stream.get_final_message()
    assert [block.type for block in final.content] == ["text", "tool_use"]
    tool = final.content[1]
    assert tool.type == "tool_use"
    assert tool.input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"


def test_the_sdk_create_stream_parses_every_event_but_the_pings() -> None:
    with uvicorn_thread(anthropic_app("good", delay=0.0)) as server:
        parsed = list(
            sdk_client(server.base_url).messages.create(
                model=MODEL, max_tokens=64, messages=ASK, stream=True
            )
        )
    expected = [e["type"] for e in events("good") if e["type"] != "ping"]
    assert [e.type for e in parsed] == expected
    assert parsed[-1].type == "message_stop"


def test_the_sdk_raises_the_mid_stream_error() -> None:
    with (
        uvicorn_thread(anthropic_app("error-midstream", delay=0.0)) as server,
        pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
        sdk_client(server.base_url).messages.stream(
            model=MODEL, max_tokens=64, messages=ASK
        ) as stream,
    ):
        stream.get_final_message()


def test_the_sdk_silently_drops_unnamed_events() -> None:
    # Why anthropic.event-name is a MUST: without `event:` the SDK sees no event at all.
    with uvicorn_thread(anthropic_app("unnamed", delay=0.0)) as server:
        parsed = list(
            sdk_client(server.base_url).messages.create(
                model=MODEL, max_tokens=64, messages=ASK, stream=True
            )
        )
    assert parsed == []


# --- credentials never reach a report -----------------------------------------------------------


def test_the_api_key_is_redacted_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-ant-api03-SECRETSECRET0123456789"
    reports = {
        "--json-report": tmp_path / "r.json",
        "--junit-xml": tmp_path / "r.xml",
        "--html-report": tmp_path / "r.html",
    }
    app = anthropic_app("good", delay=0.0)
    with uvicorn_thread(app) as server:
        args = [
            server.base_url + PATH,
            "--profile",
            "anthropic-messages",
            "-H",
            f"x-api-key: {secret}",
        ]
        args += ["--skip", "stream.con*,stream.dis*"]
        for flag, path in reports.items():
            args += [flag, str(path)]
        code = cli_main(args)
    assert code == 0
    assert app.state.requests[0]["headers"]["x-api-key"] == secret  # it was sent
    out, err = capsys.readouterr()
    assert secret not in out + err
    for path in reports.values():
        assert secret not in path.read_text(encoding="utf-8"), path.name
    shown = reports["--json-report"].read_text(encoding="utf-8")
    assert "x-api-key" in shown
    assert "<redacted" in shown
