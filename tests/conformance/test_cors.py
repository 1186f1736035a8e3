"""A page on another origin: cors.origin and browser.plain-eventsource against real servers on
loopback (testing/cors_servers.py), and the rules behind them on hand-built captures."""

from __future__ import annotations

import pytest

from conformance.capture.model import Capture, CaptureRequest, Redirect
from conformance.checks.cors import Hop, cors_failure
from conformance.errors import SettingError
from conformance.models import Report, Verdict
from conformance.origins import origin_of
from conformance.profiles import load_profile, profile_from_flags
from conformance.runner import run_suite
from conformance.settings.setting import parse_origin
from testing import cors_servers as cs
from testing.rawhttp import Handler, threaded_sse_server
from tests.conformance.fast_suite import fast_profile
from tests.conformance.suite_helpers import frame, make, ram_messages, run_check, timed

APP = cs.APP_ORIGIN
TIMING = ("stream.first-event", "stream.incremental", "stream.cadence")


def failed(report: Report) -> set[str]:
    return {r.check_id for r in report.results if r.verdict is Verdict.FAIL}


def warned(report: Report) -> set[str]:
    return {r.check_id for r in report.results if r.verdict is Verdict.WARN}


async def judge(server: Handler, **overrides: object) -> tuple[Report, list[str | None]]:
    """The whole suite (generic profile, fast) but its timing checks (a busy machine must not
    change these verdicts) against ``server``; and the Origin each request carried."""
    with threaded_sse_server(server) as running:
        report = await run_suite(running.url, fast_profile("generic", **overrides), skip=TIMING)
        origins = [r.header("origin") for r in running.state.requests]
    return report, origins


# --- against real servers ---------------------------------------------------------------------


async def test_without_origin_no_cors_check_runs_and_no_origin_is_sent() -> None:
    report, origins = await judge(cs.NO_CORS)
    result = report.result("cors.origin")
    assert result.verdict is Verdict.SKIP
    assert "same-origin page: no CORS needed" in result.reason
    assert origins
    assert set(origins) == {None}
    assert failed(report) == set()


@pytest.mark.parametrize(
    ("server", "credentials", "fails", "words"),
    [
        pytest.param(cs.ALLOW_ANY, False, set(), "", id="star"),
        pytest.param(cs.ALLOW_ANY, True, {"cors.origin"}, "* is refused", id="star-credentials"),
        pytest.param(cs.echo_origin, False, set(), "", id="echo"),
        pytest.param(cs.echo_origin, True, set(), "", id="echo-credentials"),
        pytest.param(
            cs.NO_CORS, False, {"cors.origin"}, "no Access-Control-Allow-Origin", id="none"
        ),
        pytest.param(cs.FIXED_OTHER, False, {"cors.origin"}, "https://other.example", id="other"),
        pytest.param(cs.ECHO_WITHOUT_CREDENTIALS, False, set(), "", id="exact"),
        pytest.param(
            cs.ECHO_WITHOUT_CREDENTIALS,
            True,
            {"cors.origin"},
            "no Access-Control-Allow-Credentials",
            id="exact-no-credentials",
        ),
        pytest.param(cs.REDIRECT_THEN_ANY, False, {"cors.origin"}, "redirect 1", id="redirect"),
        pytest.param(cs.REDIRECT_BOTH_ANY, False, set(), "", id="redirect-cors"),
    ],
)
async def test_cors_answers_a_browser_accepts_or_refuses(
    server: Handler, credentials: bool, fails: set[str], words: str
) -> None:
    report, origins = await judge(server, origin=APP, with_credentials=credentials)
    assert failed(report) == fails, report.result("cors.origin").reason
    assert set(origins) == {APP}, "every client sends Origin as the browser would"
    result = report.result("cors.origin")
    if fails:
        assert words.lower() in result.reason.lower(), result.reason
        assert "network error" in result.reason
    else:
        assert result.verdict is Verdict.PASS, result.reason
    assert "browser.plain-eventsource" not in warned(report)


@pytest.mark.parametrize(
    ("server", "credentials", "fails"),
    [
        pytest.param(cs.TAINTED_THEN_ECHO, False, set(), id="echo"),
        pytest.param(cs.TAINTED_THEN_ECHO, True, set(), id="echo-credentials"),
        pytest.param(cs.TAINTED_THEN_PAGE, False, {"cors.origin"}, id="names-the-page"),
    ],
)
async def test_after_a_redirect_to_another_origin_origin_null_is_sent(
    server: Handler, credentials: bool, fails: set[str]
) -> None:
    report, origins = await judge(server, origin=APP, with_credentials=credentials)
    # every client: the page's origin to 127.0.0.1, then null to localhost (as Chromium sends)
    assert set(origins) == {APP, "null"}
    assert failed(report) == fails, report.result("cors.origin").reason
    if fails:
        reason = report.result("cors.origin").reason
        assert "the response: Access-Control-Allow-Origin: http://app.example" in reason
        assert "Origin: null" in reason


async def test_the_endpoints_own_origin_needs_no_cors() -> None:
    with threaded_sse_server(cs.NO_CORS) as running:
        profile = fast_profile("generic", origin=running.base_url)
        report = await run_suite(running.url, profile)
    result = report.result("cors.origin")
    assert result.verdict is Verdict.PASS
    assert "own origin" in result.reason


async def test_an_endpoint_that_needs_a_bearer_header_warns_plain_eventsource() -> None:
    header = ("Authorization", f"Bearer {cs.TOKEN}")
    report, _ = await judge(cs.bearer_required, headers=(header,))
    assert failed(report) == set()
    assert warned(report) >= {"browser.plain-eventsource"}
    reason = report.result("browser.plain-eventsource").reason
    assert "header Authorization" in reason
    assert "@microsoft/fetch-event-source" in reason
    evidence = " ".join(e.excerpt for e in report.result("browser.plain-eventsource").evidence)
    assert cs.TOKEN not in evidence, "the credential is redacted"
    # without the header it cannot even be read: http.status says so, plain-eventsource passes
    report, _ = await judge(cs.bearer_required)
    assert "http.status" in failed(report)
    assert report.result("browser.plain-eventsource").verdict is Verdict.PASS


# --- the rules, on hand-built captures ---------------------------------------------------------


def _capture(
    *, origin: str | None, headers: tuple[tuple[str, str], ...], url: str = "http://api.test/s"
) -> Capture:
    cap, _ = make(
        timed(frame(ram_messages(1))), headers=(("content-type", "text/event-stream"), *headers)
    )
    cap.request = CaptureRequest(url, origin=origin)
    cap.url = url
    return cap


@pytest.mark.parametrize(
    ("allow", "creds", "with_credentials", "ok"),
    [
        ("*", None, False, True),
        ("*", "true", True, False),
        (APP, None, False, True),
        (APP, "true", True, True),
        (APP, "True", True, False),  # byte for byte
        (APP, None, True, False),
        (APP.upper(), None, False, False),
        (f"{APP}, {APP}", None, False, False),  # two headers never match
        ("null", None, False, False),
        (None, None, False, False),
    ],
)
def test_fetch_cors_check(
    allow: str | None, creds: str | None, with_credentials: bool, ok: bool
) -> None:
    hop = Hop("the response", "http://api.test/s", allow, creds)
    assert (cors_failure(hop, APP, with_credentials) is None) is ok


def test_cors_check_reads_every_value_of_the_header() -> None:
    cap = _capture(
        origin=APP,
        headers=(("access-control-allow-origin", APP), ("access-control-allow-origin", APP)),
    )
    profile = fast_profile("generic", origin=APP)
    assert run_check("cors.origin", cap, profile).verdict is Verdict.FAIL


def test_only_cross_origin_hops_are_checked() -> None:
    """A same-origin redirect before the cross-origin one needs no CORS; every hop after does."""
    cap = _capture(
        origin=APP,
        headers=(("access-control-allow-origin", "*"),),
        url="http://api.test/s",
    )
    cap.redirects = [
        Redirect(302, f"{APP}/old", "http://api.test/s", ()),
    ]
    profile = fast_profile("generic", origin=APP)
    assert run_check("cors.origin", cap, profile).verdict is Verdict.PASS
    cap.redirects.append(Redirect(307, "http://api.test/x", "http://api.test/s", ()))
    result = run_check("cors.origin", cap, profile)
    assert result.verdict is Verdict.FAIL
    assert "redirect 2 (307 from http://api.test/x)" in result.reason


@pytest.mark.parametrize(
    ("first", "allow", "with_credentials", "verdict"),
    [
        # api.test -> cdn.test: a cross-origin hop from a URL not on the page's origin taints the
        # request's origin (Fetch: redirect-tainted origin), so the browser sends "Origin: null"
        # and the CORS check after it wants "null" (or "*" without credentials)
        ("http://api.test/old", APP, False, Verdict.FAIL),
        ("http://api.test/old", "null", False, Verdict.PASS),
        ("http://api.test/old", "*", False, Verdict.PASS),
        ("http://api.test/old", "null", True, Verdict.PASS),
        # from the page's own origin to the endpoint: not tainted, the page's origin is sent
        (f"{APP}/old", APP, False, Verdict.PASS),
        (f"{APP}/old", "null", False, Verdict.FAIL),
        # a redirect within one origin taints nothing
        ("http://cdn.test/old", APP, False, Verdict.PASS),
    ],
)
def test_a_cross_origin_redirect_taints_the_origin_the_browser_sends(
    first: str, allow: str, with_credentials: bool, verdict: Verdict
) -> None:
    headers: tuple[tuple[str, str], ...] = (("access-control-allow-origin", allow),)
    if with_credentials:
        headers += (("access-control-allow-credentials", "true"),)
    cap = _capture(origin=APP, headers=headers, url="http://cdn.test/s")
    hop_headers: tuple[tuple[str, str], ...] = (("Access-Control-Allow-Origin", "*"),)
    if with_credentials:
        hop_headers = (
            ("Access-Control-Allow-Origin", APP),
            ("Access-Control-Allow-Credentials", "true"),
        )
    cap.redirects = [Redirect(302, first, "http://cdn.test/s", hop_headers)]
    profile = fast_profile("generic", origin=APP, with_credentials=with_credentials)
    result = run_check("cors.origin", cap, profile)
    assert result.verdict is verdict, result.reason
    if verdict is Verdict.FAIL and allow == APP:
        assert "Origin: null" in result.reason
        assert "redirect-tainted" in result.reason


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://App.Example:80/x?y", "http://app.example"),
        ("https://h.test:443/", "https://h.test"),
        ("https://h.test:8443/a", "https://h.test:8443"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("not a url", "null"),
    ],
)
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_the_origin_flag_is_serialized_as_a_browser_sends_it() -> None:
    assert parse_origin("HTTP://App.Example:80/") == "http://app.example"
    assert parse_origin("https://app.example:8443") == "https://app.example:8443"
    for bad in ("app.example", "ftp://x", "http://app.example/page", "http://a?b", "http://"):
        with pytest.raises(SettingError):
            parse_origin(bad)
    profile = profile_from_flags({"origin": "http://App.example", "with_credentials": True})
    request = profile.capture_request("http://api.test/s")
    assert ("Origin", "http://app.example") in request.wire_headers()
    assert profile.with_credentials


@pytest.mark.parametrize(
    ("method", "headers", "body", "words"),
    [
        ("GET", (), None, None),
        ("GET", (("Accept", "text/event-stream"), ("Last-Event-ID", "3")), None, None),
        ("GET", (("Cache-Control", "no-cache"), ("Cookie", "a=b")), None, None),
        ("POST", (), b"{}", "method POST; a body (2 bytes)"),
        ("GET", (("X-Api-Key", "k"),), None, "header X-Api-Key"),
        ("GET", (("Accept", "application/json"),), None, "Accept: application/json"),
    ],
)
def test_plain_eventsource_rules(
    method: str, headers: tuple[tuple[str, str], ...], body: bytes | None, words: str | None
) -> None:
    cap, profile = make(timed(frame(ram_messages(1))))
    cap.request = CaptureRequest("http://api.test/s", method=method, headers=headers, body=body)
    result = run_check("browser.plain-eventsource", cap, profile)
    if words is None:
        assert result.verdict is Verdict.PASS, result.reason
    else:
        assert result.verdict is Verdict.WARN
        assert words in result.reason


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("openai-chat", "method POST"),
        ("openai-responses", "method POST"),
        ("anthropic-messages", "headers Content-Type, anthropic-version"),
        ("mcp-streamable-http", "a body"),
        ("graphql-sse", "method POST"),
    ],
)
def test_the_post_streaming_profiles_warn_plain_eventsource(name: str, words: str) -> None:
    """They expect the warning (fetch-based clients only), and a warning never fails a run."""
    profile = load_profile(name)
    cap, _ = make(timed(frame(ram_messages(1))))
    cap.request = profile.capture_request("http://api.test/s")
    result = run_check("browser.plain-eventsource", cap, profile)
    assert result.verdict is Verdict.WARN
    assert words in result.reason
