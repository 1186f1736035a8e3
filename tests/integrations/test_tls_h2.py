"""HTTPS and HTTP/2 against real servers on loopback, with a throwaway CA (trustme).

hypercorn serves the reference app over TLS with ALPN offering h2 (and, for http.version's warning,
http/1.1 only); nginx is the usual production shape, a TLS + HTTP/2 front for a plain-HTTP app.
Whatever the protocol, the suite must see the same events and give the same verdicts: h2 bodies
have no chunked framing, and no check may notice.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.capture import http as capture_http
from conformance.models import Report, Verdict
from conformance.runner import run_suite
from testing.support import uvicorn_thread
from testing.tls import Certs, hypercorn_thread, make_certs, reference_app, with_cors
from tests.conformance.fast_suite import fast_profile
from tests.integrations.nginx import LOCATION_SSE, find_nginx, nginx_proxy

SAMPLES = 8
INTERVAL = 0.05
PATH = "/api/stream"
APP_ORIGIN = "http://app.example"
# A busy 2-core machine can stretch one interval; cadence is the one verdict allowed to differ.
TIMING = frozenset({"stream.cadence"})


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("tls"))


def profile(certs: Certs | None = None, **overrides: Any) -> Any:
    cacert = {"cacert": str(certs.ca)} if certs is not None else {}
    return fast_profile(
        "ram-monitor", expect_count=SAMPLES + 2, interval=INTERVAL, **cacert, **overrides
    )


def verdicts(report: Report, verdict: Verdict) -> set[str]:
    return {r.check_id for r in report.results if r.verdict is verdict}


def events(report: Report) -> list[tuple[str, str, str]]:
    return [(e.type, e.data, e.last_event_id) for e in report.capture.events]


def assert_judged_alike(report: Report, direct: Report) -> None:
    """Same events, and every verdict the same but http.version's (and the timing tolerance)."""
    assert events(report) == events(direct)
    assert len(report.capture.events) == SAMPLES + 2
    mine = {r.check_id: r.verdict for r in report.results if r.check_id != "http.version"}
    theirs = {r.check_id: r.verdict for r in direct.results if r.check_id != "http.version"}
    differ = {k for k in mine if mine[k] is not theirs[k]}
    assert differ <= TIMING, {k: (mine[k], theirs[k], report.result(k).reason) for k in differ}
    assert verdicts(report, Verdict.FAIL) == set(), [
        (r.check_id, r.reason) for r in report.results if r.verdict is Verdict.FAIL
    ]


@pytest.fixture(scope="module")
def direct() -> Report:
    """The reference over plain HTTP/1.1: what every TLS run must look like."""
    import asyncio

    with uvicorn_thread(reference_app()) as server:
        report = asyncio.run(run_suite(server.base_url + PATH, profile()))
    assert report.capture.http_version == "HTTP/1.1"
    assert report.result("http.version").verdict is Verdict.SKIP
    return report


async def test_http2_over_tls_is_judged_exactly_as_http1(certs: Certs, direct: Report) -> None:
    with hypercorn_thread(reference_app(), certs) as server:
        report = await run_suite(server.base_url + PATH, profile(certs))
    assert report.capture.http_version == "HTTP/2"
    assert report.result("http.version").verdict is Verdict.PASS
    assert_judged_alike(report, direct)
    # one DATA frame per event, as there was one HTTP/1.1 chunk per event: no framing bytes
    assert report.capture.body == direct.capture.body
    assert len(report.capture.chunks) >= SAMPLES
    assert report.result("stream.incremental").verdict is Verdict.PASS


async def test_an_https_server_offering_only_http1_warns_http_version(
    certs: Certs, direct: Report
) -> None:
    with hypercorn_thread(reference_app(), certs, http2=False) as server:
        report = await run_suite(server.base_url + PATH, profile(certs))
    assert report.capture.http_version == "HTTP/1.1"
    result = report.result("http.version")
    assert result.verdict is Verdict.WARN
    assert "6" in result.reason
    assert "per origin" in result.reason
    assert_judged_alike(report, direct)


async def test_nginx_as_tls_and_http2_front_for_a_plain_http_app(
    certs: Certs, direct: Report, tmp_path: Path
) -> None:
    if find_nginx() is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    with (
        uvicorn_thread(reference_app()) as upstream,
        nginx_proxy(
            upstream.port, tmp_path, location=LOCATION_SSE, tls=(certs.cert, certs.key)
        ) as proxy,
    ):
        report = await run_suite(proxy.base_url + PATH, profile(certs))
    assert report.capture.http_version == "HTTP/2"
    assert report.result("http.version").verdict is Verdict.PASS
    assert_judged_alike(report, direct)


async def test_an_untrusted_certificate_is_one_line_naming_the_fix(certs: Certs) -> None:
    with hypercorn_thread(reference_app(), certs) as server:
        report = await run_suite(server.base_url + PATH, profile())
        insecure = await run_suite(server.base_url + PATH, profile(insecure=True))
    assert report.unreachable
    message = report.capture.end_message
    assert message.startswith("TLS certificate verify failed:")
    assert "--cacert" in message
    assert "--insecure" in message
    assert "\n" not in message
    assert not insecure.unreachable
    assert insecure.capture.http_version == "HTTP/2"
    assert verdicts(insecure, Verdict.FAIL) == set()


async def test_ssl_cert_file_is_honoured_as_httpx_does(
    certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    capture_http.ssl_context.cache_clear()
    try:
        with hypercorn_thread(reference_app(), certs) as server:
            report = await run_suite(server.base_url + PATH, profile())
    finally:
        capture_http.ssl_context.cache_clear()
    assert not report.unreachable, report.capture.end_message
    assert report.capture.http_version == "HTTP/2"


def test_cli_against_the_http2_server_from_another_origin(certs: Certs) -> None:
    """``sse-conformance https://127.0.0.1:PORT/... --cacert ca.pem --origin http://app.example``."""
    app = with_cors(reference_app(), APP_ORIGIN, credentials=True)
    with hypercorn_thread(app, certs) as server:
        argv = [server.base_url + PATH, "--cacert", str(certs.ca), "--origin", APP_ORIGIN]
        argv += ["--profile", "ram-monitor", "--expect-count", str(SAMPLES + 2)]
        argv += ["--interval", str(INTERVAL), "--no-color"]
        ok = subprocess.run(
            [sys.executable, "-m", "conformance", *argv, "--with-credentials"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        untrusted = subprocess.run(
            [sys.executable, "-m", "conformance", server.base_url + PATH, "--no-color"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "HTTP/2 200" in ok.stdout
    lines = {line.split()[0]: line for line in ok.stdout.splitlines() if line.strip()}
    assert "pass" in lines["http.version"], ok.stdout
    assert "pass" in lines["cors.origin"], ok.stdout
    assert untrusted.returncode == 2
    err = untrusted.stderr.strip()
    assert len(err.splitlines()) == 1
    assert "certificate verify failed" in err
    assert "--cacert" in err
