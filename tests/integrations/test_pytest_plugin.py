"""The pytest plugin, through pytest's own pytester: items per check, verdicts, fixture, launch."""

from __future__ import annotations

import json
import shlex
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.profiles import load_profile
from testing.support import RunningServer, free_port, server_process, uvicorn_thread
from tests.integrations.upstreams import ram_stream_app

pytest_plugins = ("pytester",)

INTERVAL = 0.02
PLUGIN = ("-p", "conformance.pytest_plugin")
# Slow-to-import plugins of this venv, left out of both runs alike (the comparison stays fair).
HEAVY_OFF = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:locust",
    "-p",
    "no:playwright",
    "-p",
    "no:hypothesispytest",
)
# A loaded CI machine may delay a 20 ms tick: a cadence warning there would add to the warning
# counts these tests assert, so the tolerance is wide (stream.cadence itself is H3's to test).
FAST = (
    "--sse-profile",
    "ram-monitor",  # these streams follow its contract (the default profile is generic)
    "--sse-interval",
    str(INTERVAL),
    "--sse-cadence-tolerance",
    "50",
    "--sse-close-grace",
    "0.5",
)

# Each case runs a whole pytest session against a live stream: `nox -s slow` (CI runs it).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def good() -> Iterator[RunningServer]:
    with uvicorn_thread(ram_stream_app(interval=INTERVAL, accel_header=True)) as server:
        yield server


@pytest.fixture(scope="module")
def no_cache_header() -> Iterator[RunningServer]:
    """Valid but without Cache-Control: http.cache-control warns (a SHOULD check)."""
    app = ram_stream_app(interval=INTERVAL, accel_header=True, cache_control=False)
    with uvicorn_thread(app) as server:
        yield server


@pytest.fixture(scope="module")
def wrong_count() -> Iterator[RunningServer]:
    with uvicorn_thread(ram_stream_app(interval=INTERVAL, accel_header=True, samples=19)) as server:
        yield server


def total_checks() -> int:
    """The items of a ram-monitor run: the generic checks and that contract's own."""
    from conformance.checks.registry import for_profile

    return len(for_profile(load_profile("ram-monitor").contract))


# Generic checks that do not apply to these plain-HTTP, same-origin RAM streams without ids.
MAY_SKIP = (
    "http.redirect",  # no redirect
    "http.version",  # plain http
    "cors.origin",  # no --origin
    "browser.eventsource",  # no --browser
    "reconnect.resume",  # no ids (the test app is the demo's shape)
    "stream.cadence",  # no interval in some runs
)


def assert_counts(
    result: pytest.RunResult, *, failed: int = 0, extra: int = 0, warnings: int | None = None
) -> None:
    """One item per check: passed + skipped + failed == the catalogue (+ ``extra`` own tests).

    Counted, not listed, so a check added to the catalogue later does not break these tests;
    a few checks never apply to these streams (http.redirect, ...) and are skipped; other
    application contracts' checks (openai.*, mcp.*...) are not items at all.
    """
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == failed, outcomes
    skipped = outcomes.get("skipped", 0)
    assert skipped <= len(MAY_SKIP), outcomes
    assert outcomes.get("passed", 0) + skipped + failed == total_checks() + extra, outcomes
    if warnings is not None:
        assert outcomes.get("warnings", 0) == warnings, outcomes


def url(server: RunningServer) -> str:
    return server.base_url + "/api/stream"


def plugin_available() -> bool:
    """Whether the package's pytest11 entry point is installed (then -p would register it twice)."""
    from importlib.metadata import entry_points

    return any(ep.value == "conformance.pytest_plugin" for ep in entry_points(group="pytest11"))


@pytest.fixture(autouse=True)
def lean_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs load only this plugin: importing every installed plugin (hypothesis
    alone takes ~2 s) in each of them would dominate this module's runtime."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("SSE_URL", raising=False)


def plugin_args() -> tuple[str, ...]:
    return PLUGIN


def test_without_a_url_a_plain_run_is_unchanged(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_plain="""
        def test_one():
            assert 1 + 1 == 2

        def test_two():
            pass
        """
    )
    # The real thing: autoloading on, the plugin as installed (entry point) or else via -p.
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    explicit = () if plugin_available() else PLUGIN
    with_plugin = pytester.runpytest_subprocess(*explicit, *HEAVY_OFF, "-q")
    without = pytester.runpytest_subprocess("-p", "no:sse_conformance", *HEAVY_OFF, "-q")
    with_plugin.assert_outcomes(passed=2)
    without.assert_outcomes(passed=2)
    strip = [line for line in with_plugin.outlines if " in " not in line]
    assert strip == [line for line in without.outlines if " in " not in line]
    assert "sse-conformance" not in with_plugin.stdout.str()


def test_one_item_per_check_and_a_passing_run(
    pytester: pytest.Pytester, good: RunningServer
) -> None:
    result = pytester.runpytest_subprocess(
        *plugin_args(), "--sse-url", url(good), *FAST, "-v", "-p", "no:cacheprovider"
    )
    assert_counts(result)
    result.stdout.fnmatch_lines(
        [
            "sse-conformance: http://127.0.0.1:*/api/stream (profile ram-monitor)",
            "*sse-conformance::http.status PASSED*",
            "*sse-conformance::payload.ram-format PASSED*",
            "*sse-conformance::stream.incremental PASSED*",
            "sse-conformance: * status=200 events=22 ended=closed*",
        ]
    )
    assert "openai.chunk" not in result.stdout.str()  # another contract's check: not an item
    assert result.ret == 0


def test_ini_key_and_env_var_give_the_url(
    pytester: pytest.Pytester, good: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(f"[pytest]\nsse_url = {url(good)}\n")
    result = pytester.runpytest_subprocess(
        *plugin_args(), *FAST, "-k", "http.status", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, deselected=total_checks() - 1)
    monkeypatch.setenv("SSE_URL", url(good) + "?from=env")
    result = pytester.runpytest_subprocess(
        *plugin_args(), *FAST, "-k", "http.status", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["sse-conformance: *?from=env (profile ram-monitor)"])


def test_a_fail_is_a_test_failure_with_reason_and_evidence(
    pytester: pytest.Pytester, wrong_count: RunningServer
) -> None:
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        url(wrong_count),
        *FAST,
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == 1
    assert_counts(result, failed=2)  # payload.count and payload.ram-format
    out = result.stdout.str()
    assert "payload.count FAIL (MUST)" in out
    assert "reason: 21 of 22 events" in out
    assert "evidence:" in out
    assert "@1" in out  # a byte offset
    assert "spec: https://html.spec.whatwg.org/" in out
    assert "Traceback" not in out
    tree = ET.parse(junit)
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    assert len(cases) == total_checks()
    assert cases["payload.count"].find("failure") is not None
    assert cases["http.status"].find("failure") is None
    assert cases["payload.count"].get("classname") == "sse-conformance"


def test_k_and_x_select_and_stop(pytester: pytest.Pytester, wrong_count: RunningServer) -> None:
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        url(wrong_count),
        *FAST,
        "-k",
        "payload",
        "-x",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1, passed=0)  # payload.count fails first, -x stops
    assert result.ret == 1


def test_a_warning_passes_and_shows_in_the_summary(
    pytester: pytest.Pytester, no_cache_header: RunningServer
) -> None:
    # reconnect.* skipped: this stream has no ids, which rightly warns two more checks
    no_reconnect = ("--sse-skip", "reconnect.*")
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        url(no_cache_header),
        *FAST,
        *no_reconnect,
        "-p",
        "no:cacheprovider",
    )
    assert_counts(result, warnings=1, extra=-5)  # the 5 reconnect.* items are skipped
    result.stdout.fnmatch_lines(
        ["*warnings summary*", "*SSEConformanceWarning: http.cache-control:*"]
    )
    assert result.ret == 0
    strict = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        url(no_cache_header),
        *FAST,
        *no_reconnect,
        "--sse-strict",
        "-p",
        "no:cacheprovider",
    )
    assert_counts(strict, failed=1, extra=-5)
    strict.stdout.fnmatch_lines(["*http.cache-control WARN (SHOULD)*"])


def test_sse_capture_fixture_for_a_teams_own_checks(
    pytester: pytest.Pytester,
) -> None:
    app = ram_stream_app(interval=INTERVAL, accel_header=True)
    pytester.makepyfile(
        test_team="""
        import json

        def test_every_sample_mentions_ram(sse_capture):
            samples = [json.loads(e.data) for e in sse_capture.events[1:-1]]
            assert samples and all("RAM usage" in s for s in samples)

        def test_the_stream_took_under_a_minute(sse_capture):
            assert sse_capture.status == 200
            assert sse_capture.t_end < 60
        """
    )
    # Only the team's tests: the capture still runs once, without the extra clients.
    with uvicorn_thread(app) as good:
        result = pytester.runpytest_subprocess(
            *plugin_args(), "--sse-url", url(good), *FAST, "test_team.py", "-k", "team"
        )
        alone = app.state.streams
        everything = pytester.runpytest_subprocess(
            *plugin_args(), "--sse-url", url(good), *FAST, "test_team.py"
        )
        full = app.state.streams - alone
        # No test path: only the checks (the folder's own tests are not collected).
        only_checks = pytester.runpytest_subprocess(*plugin_args(), "--sse-url", url(good), *FAST)
    assert_counts(only_checks, extra=0)
    result.assert_outcomes(passed=2, deselected=total_checks())
    assert alone == 1  # one capture for both tests
    assert_counts(everything, extra=2)
    ram = load_profile("ram-monitor")
    # main + concurrent + aborting + follow-up + the reconnecting client's three connections
    # (cut, its reconnect, the after-end): still one main capture for items and fixture
    assert full == 1 + ram.concurrency + ram.disconnect_clients + 1 + 3


def test_sse_capture_skips_without_a_url(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_team="def test_uses_it(sse_capture):\n    pass\n")
    result = pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no SSE endpoint: give --sse-url*"])


def test_bad_flags_are_usage_errors(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        *plugin_args(), "--sse-url", "ftp://x/", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*sse-conformance: the URL must start with http:// or https://*"])
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        "http://127.0.0.1:9/",
        "--sse-profile",
        "nope",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown profile 'nope'*"])
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        "http://127.0.0.1:9/",
        "--sse-expect-count",
        "many",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_unreachable_target_is_one_error_naming_the_cause(pytester: pytest.Pytester) -> None:
    port = free_port()
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        f"http://127.0.0.1:{port}/",
        "-k",
        "http",
        "-p",
        "no:cacheprovider",
    )
    # The session stops at the first item: exit 2, like the CLI's exit for an unreachable target.
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)  # not one failure per check
    result.stdout.fnmatch_lines(
        [f"*cannot reach http://127.0.0.1:{port}/: connection refused: is the server running*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert "CheckFailed" not in result.stdout.str()


def test_launch_html_report_and_profile_file(pytester: pytest.Pytester, tmp_path: Path) -> None:
    port = free_port()
    here = Path(__file__).resolve().parents[2]
    server = tmp_path / "serve.py"
    server.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "import uvicorn\n"
        "from tests.integrations.upstreams import ram_stream_app\n"
        f"uvicorn.run(ram_stream_app(interval={INTERVAL}, accel_header=True), host='127.0.0.1',"
        " port=int(sys.argv[1]), log_level='info')\n"
    )
    profile = tmp_path / "mine.toml"
    profile.write_text(f'extends = "ram-monitor"\nname = "mine"\ninterval = {INTERVAL}\n')
    html = tmp_path / "report.html"
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(server))} {{port}}"
    result = pytester.runpytest_subprocess(
        *plugin_args(),
        "--sse-url",
        f"http://127.0.0.1:{port}/api/stream",
        "--sse-profile",
        str(profile),
        "--sse-launch",
        cmd,
        "--sse-close-grace",
        "0.5",
        "--sse-html-report",
        str(html),
        "--sse-json-report",
        str(tmp_path / "json" / "report.json"),
        "-p",
        "no:cacheprovider",
    )
    assert_counts(result)
    result.stdout.fnmatch_lines(["sse-conformance: * (profile mine, launching *)"])
    data = json.loads((tmp_path / "json" / "report.json").read_text())
    assert data["exit_code"] == 0
    assert len(data["events"]) == 22
    page = html.read_text()
    assert "PASS: no check failed" in page
    assert "Uvicorn running on" in page  # the launched server's output is in the report
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), 0.5).close()  # stopped after the session


def test_the_readme_example_runs_against_the_reference(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: integrations -->")[1].split(
        "<!-- /section: integrations -->"
    )[0]
    example = section.split("```python\n")[1].split("```")[0]
    assert "sse_capture" in example
    pytester.makepyfile(test_our_stream=example)
    with server_process(["-m", "reference", "--interval", "0.05"]) as reference:
        result = pytester.runpytest_subprocess(
            *plugin_args(),
            "--sse-url",
            reference.base_url + "/api/stream",
            "--sse-profile",
            "ram-monitor",
            "--sse-interval",
            "0.05",
            "test_our_stream.py",
            "-p",
            "no:cacheprovider",
        )
    assert_counts(result, extra=3)


def test_flag_values_reach_the_profile_verbatim(pytester: pytest.Pytester) -> None:
    """Values go through the CLI's parser as --flag=value, so one starting with '-' survives."""
    from conformance.pytest_plugin import STATE

    config = pytester.parseconfigure(
        *PLUGIN,
        "--sse-url=http://127.0.0.1:9/s",
        "--sse-profile=generic",
        "--sse-sentinel=--end",
        "--sse-header=X-Team: a b",
        "--sse-header=Authorization: Bearer t",
        "--sse-expect-count=7",
        "--sse-deadline=3",
        "--sse-skip=stream.*",
    )
    state = config.stash[STATE]
    assert state.profile.name == "generic"
    assert state.profile.sentinel == "--end"
    assert ("X-Team", "a b") in state.profile.headers
    assert ("Authorization", "Bearer t") in state.profile.headers
    assert state.profile.expect_count == 7
    assert state.profile.limits.deadline == 3.0
    assert state.options.skip == ("stream.*",)


def test_the_default_profile_is_generic(pytester: pytest.Pytester) -> None:
    from conformance.pytest_plugin import STATE

    config = pytester.parseconfigure(*PLUGIN, "--sse-url=http://127.0.0.1:9/s")
    state = config.stash[STATE]
    assert state.profile.name == "generic"
    assert state.profile.contract is None
    assert state.profile.expect_count is None
