"""End to end: the real reference, the CLI, the runner API (the vertical slice)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.models import Verdict
from conformance.profiles import load_profile
from conformance.runner import run_suite
from testing.support import server_process


@pytest.fixture(scope="module")
def reference_url() -> object:
    with server_process(["-m", "reference", "--interval", "0.05"]) as server:
        yield f"{server.base_url}/api/stream"


async def test_reference_passes_with_no_fail(reference_url: str) -> None:
    profile = load_profile("ram-monitor").replace(interval=0.05)
    report = await run_suite(reference_url, profile)
    failed = [(r.check_id, r.reason) for r in report.results if r.verdict is Verdict.FAIL]
    assert failed == []
    assert report.exit_code() == 0
    assert len(report.capture.events) == 22
    assert report.result("stream.concurrent").verdict is Verdict.PASS
    assert report.result("stream.disconnect").verdict is Verdict.PASS


def test_cli_reports(
    reference_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_path, xml_path = tmp_path / "r.json", tmp_path / "r.xml"
    code = main(
        [
            reference_url,
            "--interval",
            "0.05",
            "--skip",
            "stream.con*,stream.dis*",
            "--json-report",
            str(json_path),
            "--junit-xml",
            str(xml_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "http.status" in out
    assert "-> exit 0" in out
    data = json.loads(json_path.read_text())
    assert {
        "target",
        "profile",
        "started",
        "duration_s",
        "exit_code",
        "checks",
        "events",
        "http",
    } <= set(data)
    assert {"id", "title", "severity", "verdict", "detail", "spec"} <= set(data["checks"][0])
    assert set(data["events"][0]) >= {"type", "data", "last_event_id", "t"}
    assert data["http"]["status"] == 200
    assert "stream.concurrent" not in {c["id"] for c in data["checks"]}
    suite = ET.parse(xml_path).getroot().find("testsuite")
    assert suite is not None
    assert len(suite.findall("testcase")) == len(data["checks"])
