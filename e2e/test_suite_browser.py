"""The suite's ``--browser``: a real EventSource in headless Chromium, judged by browser.eventsource.

Here, not under tests/: the suite drives Chromium through Playwright's async API, and these tests
launch it, so they run in the e2e pytest process (no pytest-asyncio). Each server is a known one
from testing/ (the good stream with one knob turned), or the reference itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from conformance.browser.model import BrowserOptions
from conformance.cli import main as cli_main
from conformance.models import Report, Verdict
from conformance.profiles import load_profile
from conformance.runner import run_suite_sync as suite_sync
from e2e.servers import serve_reference
from testing.rawhttp import threaded_sse_server
from testing.sse_response import SseResponse

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in a thread of its own: the sync Playwright of the other e2e tests keeps an
    event loop running in this thread, and the suite starts its own with asyncio.run."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def main(argv: list[str]) -> int:
    return off_loop(cli_main, argv)


def run_suite_sync(*args: Any, **kwargs: Any) -> Report:
    return off_loop(suite_sync, *args, **kwargs)


CHECK = "browser.eventsource"
GOOD = SseResponse(samples=5, interval=0.02)
FAST = ("stream.*",)  # the extra clients say nothing about the browser


def judged(spec: SseResponse, **browser: object) -> Report:
    with threaded_sse_server(spec) as server:
        return run_suite_sync(
            server.url,
            load_profile("generic"),
            skip=FAST,
            browser=BrowserOptions(**browser),  # type: ignore[arg-type]
        )


def test_the_reference_passes_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    with serve_reference(interval=0.05) as app:
        code = main(
            [
                f"{app.base_url}/api/stream",
                "--profile",
                "ram-monitor",
                "--interval",
                "0.05",
                "--browser",
                "--json-report",
                str(out),
            ]
        )
    results = {r["id"]: r for r in json.loads(out.read_text())["checks"]}
    assert results[CHECK]["verdict"] == "pass", results[CHECK]
    assert "22 events" in results[CHECK]["detail"]
    assert code == 0


def test_bom_then_lf_warns_with_both_sides_labelled() -> None:
    report = judged(dataclasses.replace(GOOD, bom=b"\xef\xbb\xbf\n"))
    result = report.result(CHECK)
    assert result.verdict is Verdict.WARN, result
    assert "browser.bom-line-end" in result.reason
    assert "spec (the suite): 7 events, Chromium: 6" in result.reason
    spec_side, browser_side = result.evidence
    assert spec_side.excerpt.startswith("spec (the suite) #0: message")
    assert "Starting system RAM monitoring" in spec_side.excerpt
    assert spec_side.offset == 4  # past the BOM and the LF, in the suite's capture
    assert browser_side.label == "Chromium"
    assert "RAM usage" in browser_side.excerpt
    assert report.browser is not None
    assert [e.data for e in report.browser.events] == [e.data for e in report.capture.events][1:]
    assert report.result("browser.bom-line-end").verdict is Verdict.WARN


def test_a_charset_chromium_refuses_warns_in_chromiums_words() -> None:
    headers = (("Content-Type", "text/event-stream; charset=iso-8859-1"),)
    result = judged(dataclasses.replace(GOOD, headers=headers)).result(CHECK)
    assert result.verdict is Verdict.WARN, result
    assert "browser.charset" in result.reason
    assert 'charset ("iso-8859-1") that is not UTF-8' in result.reason
    assert "Chromium: 0" in result.reason


def test_missing_cors_from_another_origin_fails_in_chromiums_words() -> None:
    result = judged(GOOD, origin="http://app.example").result(CHECK)
    assert result.verdict is Verdict.FAIL, result
    assert "from http://app.example" in result.reason
    assert "blocked by CORS policy" in result.reason
    assert "No 'Access-Control-Allow-Origin' header" in result.reason


def test_cors_star_passes_without_credentials_and_fails_with_them() -> None:
    spec = dataclasses.replace(GOOD, headers=(*GOOD.headers, ("Access-Control-Allow-Origin", "*")))
    assert judged(spec, origin="http://app.example").result(CHECK).verdict is Verdict.PASS
    with_credentials = judged(spec, origin="http://app.example", with_credentials=True)
    result = with_credentials.result(CHECK)
    assert result.verdict is Verdict.FAIL
    assert "must not be the wildcard '*'" in result.reason


def test_a_named_event_type_is_recorded_without_a_listener() -> None:
    report = judged(dataclasses.replace(GOOD, event_type="ram"))
    assert report.result(CHECK).verdict is Verdict.PASS
    assert report.browser is not None
    assert {e.type for e in report.browser.events} == {"ram"}


def test_without_chromium_the_run_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with threaded_sse_server(GOOD) as server:
        code = main([server.url, "--browser", "--chromium-path", "/nonexistent/chromium"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "--chromium-path='/nonexistent/chromium' is not an executable file" in err


def test_the_html_report_shows_both_columns(tmp_path: Path) -> None:
    from conformance.reports.html import render_html

    report = judged(dataclasses.replace(GOOD, bom=b"\xef\xbb\xbf\n"))
    page = render_html(report)
    assert "<h2>In a real browser (--browser)</h2>" in page
    assert "<th>spec (the suite)</th><th>Chromium</th>" in page
    first_row = page.split("<th>Chromium</th></tr></thead><tbody>", 1)[1].split("</tr>", 1)[0]
    assert "Starting system RAM monitoring" in first_row  # the spec's first event...
    assert "(none)" in first_row  # ...which Chromium never dispatched: a gap, not a shift


def test_browser_over_tls_and_http2_from_another_origin(tmp_path: Path) -> None:
    """``sse-conformance https://127.0.0.1:PORT/... --cacert ca.pem --browser --origin ...``
    against a real HTTP/2 server (hypercorn, throwaway CA): the suite verified the certificate
    with the CA, Chromium (which cannot take a CA per run) is told to accept it."""
    pytest.importorskip("hypercorn")
    pytest.importorskip("trustme")
    from testing.tls import hypercorn_thread, make_certs, reference_app, with_cors

    samples, interval, origin = 8, 0.05, "http://app.example"

    certs = make_certs(tmp_path)
    out = tmp_path / "report.json"
    with hypercorn_thread(with_cors(reference_app(samples, interval), origin), certs) as server:
        code = main(
            [
                server.base_url + "/api/stream",
                "--cacert",
                str(certs.ca),
                "--browser",
                "--origin",
                origin,
                "--profile",
                "ram-monitor",
                "--expect-count",
                str(samples + 2),
                "--interval",
                str(interval),
                "--json-report",
                str(out),
            ]
        )
    report = json.loads(out.read_text())
    results = {r["id"]: r for r in report["checks"]}
    for check in (CHECK, "cors.origin", "http.version"):
        assert results[check]["verdict"] == "pass", results[check]
    assert code == 0


@pytest.mark.parametrize(
    ("name", "verdict"), [("TAINTED_THEN_ECHO", Verdict.PASS), ("TAINTED_THEN_PAGE", Verdict.FAIL)]
)
def test_after_a_redirect_to_another_origin_chromium_and_the_suite_both_send_origin_null(
    name: str, verdict: Verdict
) -> None:
    """127.0.0.1 -> localhost from a page on app.example: Fetch's redirect-tainted origin. The
    suite's cors.origin and Chromium's own CORS check agree (an answer naming the page's origin
    is refused, one allowing null is read)."""
    from testing import cors_servers as cs

    with threaded_sse_server(getattr(cs, name)) as server:
        report = run_suite_sync(
            server.url,
            load_profile("generic").replace(origin=cs.APP_ORIGIN),
            only=["cors.origin", CHECK],
            browser=BrowserOptions(origin=cs.APP_ORIGIN),
        )
        origins = {r.header("origin") for r in server.state.requests}
    assert origins == {cs.APP_ORIGIN, "null"}
    assert report.result("cors.origin").verdict is verdict, report.result("cors.origin").reason
    assert report.result(CHECK).verdict is verdict, report.result(CHECK).reason
    if verdict is Verdict.FAIL:
        assert "not equal to the supplied origin" in report.result(CHECK).reason
