"""Every renderer, one report: labelled evidence shows its label, no secret header shows at all."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

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
