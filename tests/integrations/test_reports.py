"""Every renderer, one report: labelled evidence shows its label, no secret header shows at all."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.browser.model import CLOSED, OPEN, BrowserEvent, BrowserRun, ClosedBy, StateChange
from conformance.capture import Capture, CaptureRequest, EndReason
from conformance.errors import UsageError
from conformance.models import Evidence, Report, Verdict
from conformance.profiles import Profile
from conformance.redaction import redact_headers
from conformance.reports import write_reports
from conformance.reports.html import render_html
from conformance.reports.json import report_to_dict
from conformance.reports.junit import junit_tree
from conformance.reports.text import render_report
from tests.integrations.builders import capture_of, report_of, result

SECRETS = ("sk-request-secret", "session-cookie-secret", "k-api-secret")


def labelled_report() -> Report:
    cap = capture_of([(0.01, '"a"'), (0.02, '"b"')])
    cap.headers.append(("Set-Cookie", "sid=session-cookie-secret; HttpOnly"))
    profile = Profile(
        name="mine",
        headers=(("Authorization", "Bearer sk-request-secret"), ("X-Api-Key", "k-api-secret")),
    )
    results = [
        result(
            "stream.concurrent",
            Verdict.FAIL,
            "client 2 got 1 of 2 events",
            Evidence(None, "1 event then closed", t=0.5, label="client 2"),
        ),
        result("http.status", Verdict.PASS, "200 OK"),
    ]
    return report_of(cap, results, profile=profile)


def rendered() -> dict[str, str]:
    report = labelled_report()
    return {
        "text": render_report(report),
        "json": json.dumps(report_to_dict(report)),
        "junit": ET.tostring(junit_tree(report), encoding="unicode"),
        "html": render_html(report),
    }


@pytest.mark.parametrize("kind", ["text", "json", "junit", "html"])
def test_the_label_shows_and_no_secret_does(kind: str) -> None:
    page = rendered()[kind]
    assert "client 2" in page
    if kind != "json":  # the JSON keeps the label in its own field
        assert "[client 2]" in page
    assert "@http" not in page.split("stream.concurrent", 1)[1].split("http.status")[0]
    for secret in SECRETS:
        assert secret not in page, f"{kind} shows {secret}"


def test_json_keeps_label_and_redacts_response_headers() -> None:
    data = report_to_dict(labelled_report())
    (check,) = [c for c in data["checks"] if c["id"] == "stream.concurrent"]
    assert check["evidence"][0]["label"] == "client 2"
    headers = dict(data["http"]["headers"])
    assert headers["Set-Cookie"].startswith("<redacted, ")


def test_html_redacts_profile_headers_once() -> None:
    page = render_html(labelled_report())
    assert "redacted, 24 chars" in page  # "Bearer sk-request-secret", counted on the real value
    assert "redacted, 19 chars" not in page  # not re-redacted ("<redacted, 24 chars>")


def test_redaction_is_idempotent() -> None:
    once = redact_headers([("Cookie", "a=b"), ("Accept", "x")])
    assert redact_headers(once) == once == [("Cookie", "<redacted, 3 chars>"), ("Accept", "x")]


def test_write_reports_writes_each_file_and_fails_in_one_line(tmp_path: Path) -> None:
    report = labelled_report()
    out = tmp_path / "a" / "b"
    write_reports(
        report,
        json=out / "r.json",
        junit=out / "r.xml",
        html=out / "r.html",
        body=out / "body.bin",
    )
    assert json.loads((out / "r.json").read_text())["profile"] == "mine"
    assert ET.parse(out / "r.xml").getroot().tag == "testsuites"
    assert "SSE conformance report" in (out / "r.html").read_text()
    assert (out / "body.bin").read_bytes() == report.capture.body
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write a report"):
        write_reports(report, json=blocker / "r.json")


class _Record:
    """A contract's follow-up record (FollowUpRecord), as an MCP session's would be."""

    def __init__(self, *requests: tuple[str, Capture]) -> None:
        self._requests = requests

    def requests(self) -> list[tuple[str, Capture]]:
        return list(self._requests)


def report_with_other_requests() -> Report:
    main = capture_of([(0.01, '"a"')])
    client = capture_of([(0.01, '"a"')], end_reason=EndReason.CLOSED)
    asked = capture_of([], end_reason=EndReason.CLOSED)
    asked.request = CaptureRequest(
        "http://127.0.0.1:9/mcp", "POST", (("Mcp-Session-Id", "s-secret-1"),), b"{}"
    )
    asked.status = 400
    asked.end_message = "bad \x1b[31m request"
    report = report_of(main, [result("http.status", Verdict.PASS, "200 OK")])
    report.extra_captures = {"concurrent": [client, client]}
    report.follow_ups = {"mcp": _Record(("tools/list POST without session id", asked))}
    return report


def test_every_other_request_is_in_the_json_and_html_reports() -> None:
    report = report_with_other_requests()
    rows = report_to_dict(report)["requests"]
    assert [(r["source"], r["label"], r["status"], r["events"]) for r in rows] == [
        ("concurrent", "client 1", 200, 1),
        ("concurrent", "client 2", 200, 1),
        ("mcp", "tools/list POST without session id", 400, 0),
    ]
    assert rows[2]["method"] == "POST"
    assert ["Mcp-Session-Id", "<redacted, 10 chars>"] in rows[2]["request_headers"]
    page = render_html(report)
    assert "Other requests (3)" in page
    assert "s-secret-1" not in page  # request headers are not in the table at all
    assert "\x1b" not in page
    assert "bad \\x1b[31m request" in page


def test_no_other_request_no_section_and_no_browser_run() -> None:
    report = labelled_report()
    assert report_to_dict(report)["requests"] == []
    assert report_to_dict(report)["browser"] is None
    assert "Other requests" not in render_html(report)


def test_the_browser_run_is_in_the_json_report() -> None:
    report = labelled_report()
    report.browser = BrowserRun(
        page_url="http://127.0.0.1:9/",
        stream_url="http://127.0.0.1:9/api/stream",
        with_credentials=False,
        executable="/usr/bin/chromium",
        events=(BrowserEvent("message", '"a"', "", 0.012),),
        states=(StateChange("open", OPEN, 0.005), StateChange("error", CLOSED, 0.03)),
        status=200,
        closed_by=ClosedBy.STREAM,
    )
    run = report_to_dict(report)["browser"]
    assert run["opened"] is True
    assert run["status"] == 200
    assert run["closed_by"] == "stream"
    assert run["events"] == [{"type": "message", "data": '"a"', "last_event_id": "", "t": 0.012}]
    assert [s["event"] for s in run["states"]] == ["open", "error"]
    json.dumps(run)  # plain JSON values only
