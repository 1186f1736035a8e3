"""pytest plugin: ``pytest --sse-url URL`` judges an SSE endpoint, one test item per check.

Why a plugin next to the CLI: teams already have pytest in CI, with ``-k``, ``-x``, ``--junitxml``,
annotations and their own fixtures. Each check becomes an item named by its id, so all of that
works unchanged, and the session fixture ``sse_capture`` lets a team add checks of its own on the
very capture the suite judged (one stream, captured once per session, lazily on first use).

Flags mirror the CLI: ``--sse-<flag>`` for every expectation, request and limit flag of
``sse-conformance`` (generated from its parser, so the two never drift), and the values go
through the CLI's own parsing (:func:`conformance.cli.profile_from_args`). The URL can also come
from the ``SSE_URL`` environment variable or the ``sse_url`` ini key, like pytest-base-url.

Without a URL the plugin only registers its options: no items, no hooks with effects, so
installing the package changes no other pytest run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.capture.model import Capture
    from conformance.launch import LaunchedServer
    from conformance.models import Report, Result
    from conformance.profiles import Profile

ENV_URL = "SSE_URL"
# CLI flags the plugin handles itself (or that make no sense inside pytest).
NOT_MIRRORED = {
    "help",
    "url",
    "profile",
    "list_checks",
    "markdown",
    "strict",
    "json_report",
    "junit_xml",
    "html_report",
    "progress",
    "no_color",
    "launch",
    "ready_timeout",
    "launch_grace",
}
COLLECTOR_NAME = "sse-conformance"
# the checks that need connections beyond the main capture (their ``needs``)
MAIN_ONLY_SKIP = (
    "stream.concurrent",
    "stream.disconnect",
    "reconnect.resume",
    "reconnect.after-end",
    "reconnect.status",
)


class SSEConformanceWarning(UserWarning):
    """A SHOULD-level check did not pass: shown in pytest's warnings summary."""


class CheckFailed(Exception):
    """An SSE check failed (or warned under --sse-strict); carries the result for the report."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class _Mirrored:
    flag: str  # the CLI flag, e.g. --expect-count
    dest: str  # the pytest option dest, e.g. sse_expect_count
    takes_value: bool
    repeat: bool


def _mirrored_flags() -> list[_Mirrored]:
    from conformance.cli import build_parser

    out = []
    for action in build_parser()._actions:
        if action.dest in NOT_MIRRORED:
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs:
            continue
        repeat = isinstance(action, argparse._AppendAction | argparse._ExtendAction)
        out.append(
            _Mirrored(longs[0], "sse_" + longs[0][2:].replace("-", "_"), action.nargs != 0, repeat)
        )
    return out


def pytest_addoption(parser: pytest.Parser) -> None:
    from conformance.cli import build_parser

    group = parser.getgroup("sse-conformance", "SSE conformance (conformance.pytest_plugin)")
    group.addoption(
        "--sse-url",
        dest="sse_url",
        default=os.environ.get(ENV_URL),
        metavar="URL",
        help=f"judge this SSE endpoint: one test item per check (env {ENV_URL}, ini sse_url)",
    )
    parser.addini("sse_url", "SSE endpoint to judge (like --sse-url)", default=None)
    group.addoption(
        "--sse-profile",
        dest="sse_profile",
        default=None,
        metavar="NAME|FILE",
        help="built-in profile (ram-monitor, generic, openai-chat) or a .toml file",
    )
    parser.addini("sse_profile", "profile for --sse-url (like --sse-profile)", default=None)
    group.addoption(
        "--sse-strict",
        dest="sse_strict",
        action="store_true",
        default=None,
        help="warnings (SHOULD checks) fail their item too",
    )
    parser.addini("sse_strict", "like --sse-strict", type="bool", default=False)
    group.addoption(
        "--sse-launch",
        dest="sse_launch",
        default=None,
        metavar="CMD",
        help="start CMD ({host} {port} {url} expanded), wait for the URL, stop it after the session",
    )
    group.addoption(
        "--sse-ready-timeout", dest="sse_ready_timeout", default=None, metavar="SECONDS"
    )
    group.addoption("--sse-launch-grace", dest="sse_launch_grace", default=None, metavar="SECONDS")
    group.addoption(
        "--sse-json-report",
        dest="sse_json_report",
        default=None,
        metavar="FILE",
        help="also write the suite's JSON report (checks, events with times, HTTP)",
    )
    group.addoption(
        "--sse-html-report",
        dest="sse_html_report",
        default=None,
        metavar="FILE",
        help="also write the suite's self-contained HTML report",
    )
    cli_help = {o: a.help for a in build_parser()._actions for o in a.option_strings}
    for m in _mirrored_flags():
        group.addoption(
            "--sse-" + m.flag[2:],
            dest=m.dest,
            action="append" if m.repeat else ("store" if m.takes_value else "store_true"),
            default=[] if m.repeat else None,
            help=(cli_help.get(m.flag) or f"as {m.flag} of sse-conformance")
            + f" (sse-conformance {m.flag})",
        )


@dataclass
class _State:
    """Per-session plugin state (in config.stash, never in module globals: pytester reuses us)."""

    url: str
    profile: Profile
    strict: bool
    only: list[str]
    skip: list[str]
    launch: str | None
    ready_timeout: float
    launch_grace: float
    html_report: str | None
    json_report: str | None
    selected: list[str] = field(default_factory=list)
    report: Report | None = None
    error: str | None = None
    server: LaunchedServer | None = None
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


STATE = pytest.StashKey[_State]()


def _url(config: pytest.Config) -> str | None:
    value = config.getoption("sse_url") or config.getini("sse_url")
    return str(value) if value else None


def pytest_configure(config: pytest.Config) -> None:
    url = _url(config)
    if not url:
        return
    config.addinivalue_line("markers", "sse_check(id): an SSE conformance check item")
    config.stash[STATE] = _build_state(config, url)


def _build_state(config: pytest.Config, url: str) -> _State:
    from conformance.cli import (
        DEFAULT_PROFILE,
        UsageError,
        _check_url,
        build_parser,
        profile_from_args,
    )
    from conformance.profiles import ProfileError

    argv = [
        url,
        "--profile",
        config.getoption("sse_profile") or config.getini("sse_profile") or DEFAULT_PROFILE,
    ]
    # --flag=value, never "--flag value": a value may itself start with "-" (a sentinel "--end").
    for m in _mirrored_flags():
        value = config.getoption(m.dest)
        if m.repeat:
            argv += [f"{m.flag}={item}" for item in value or []]
        elif value is True:
            argv.append(m.flag)
        elif value is not None and value is not False:
            argv.append(f"{m.flag}={value}")
    for name in ("ready_timeout", "launch_grace"):
        value = config.getoption("sse_" + name)
        if value is not None:
            argv.append(f"--{name.replace('_', '-')}={value}")
    try:
        _check_url(url)
        args = build_parser().parse_args(argv)
        args.given = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
        profile = profile_from_args(args)
        from conformance import checks

        checks.select(args.only, args.skip)
    except (UsageError, ProfileError, ValueError) as exc:
        raise pytest.UsageError(f"sse-conformance: {exc}") from None
    strict_opt = config.getoption("sse_strict")
    return _State(
        url=url,
        profile=profile,
        strict=bool(strict_opt) if strict_opt is not None else bool(config.getini("sse_strict")),
        only=list(args.only),
        skip=list(args.skip),
        launch=config.getoption("sse_launch"),
        ready_timeout=args.ready_timeout,
        launch_grace=args.launch_grace,
        html_report=config.getoption("sse_html_report"),
        json_report=config.getoption("sse_json_report"),
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE, None)
    if state is None:
        return None
    launch = f", launching {state.launch!r}" if state.launch else ""
    return f"sse-conformance: {state.url} (profile {state.profile.name}{launch})"


class SSESuite(pytest.Collector):
    """The check catalogue as a collector, so items have stable node ids: sse-conformance::<id>."""

    def collect(self) -> list[pytest.Item]:
        from conformance import checks

        state = self.config.stash[STATE]
        return [
            SSECheckItem.from_parent(self, name=spec.id, check_id=spec.id, title=spec.title)
            for spec in checks.select(state.only, state.skip)
        ]


class SSECheckItem(pytest.Item):
    def __init__(self, *, check_id: str, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_id = check_id
        self.title = title
        self.add_marker(pytest.mark.sse_check(check_id))

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        report = _ensure_report(self.session, state)
        if report.unreachable:
            raise CheckFailed(
                f"cannot reach {state.url}: {report.capture.end_message or report.capture.end_reason}"
            )
        result = report.result(self.check_id)
        from conformance.models import Verdict

        self.user_properties.append(("verdict", result.verdict.value))
        self.user_properties.append(("reason", result.reason))
        if result.verdict is Verdict.FAIL or (result.verdict is Verdict.WARN and state.strict):
            raise CheckFailed(describe(result))
        if result.verdict is Verdict.WARN:
            warnings.warn(SSEConformanceWarning(f"{self.check_id}: {result.reason}"), stacklevel=1)
        elif result.verdict is Verdict.SKIP:
            pytest.skip(f"{self.check_id}: {result.reason}")

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return excinfo.value.text
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{COLLECTOR_NAME} {self.check_id}: {self.title}"


def describe(result: Result) -> str:
    """What a failed item prints: verdict, reason, evidence (offset, escaped bytes), spec link."""
    lines = [
        f"{result.check_id} {result.verdict.value.upper()} ({result.severity.value}): {result.title}",
        f"  reason: {result.reason}",
    ]
    if result.evidence:
        lines.append("  evidence:")
        lines.extend(f"    {ev.describe()}" for ev in result.evidence)
    if result.spec:
        lines.append(f"  spec: {result.spec}")
    return "\n".join(lines)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Put the check items first (before -k / --deselect filtering, which runs after us)."""
    if STATE not in config.stash:
        return
    suite = SSESuite.from_parent(session, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME)
    items[:0] = suite.collect()


def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is not None:
        state.selected = [i.check_id for i in session.items if isinstance(i, SSECheckItem)]


def _ensure_report(session: pytest.Session, state: _State) -> Report:
    """Capture and judge once per session; only the selected checks (so -k saves connections)."""
    if state.report is not None:
        return state.report
    if state.error is not None:
        raise CheckFailed(state.error)
    from conformance.launch import LaunchError, launched
    from conformance.runner import run_suite_sync

    try:
        if state.launch:
            state.server = state.stack.enter_context(
                launched(
                    state.launch,
                    state.url,
                    ready_timeout=state.ready_timeout,
                    grace=state.launch_grace,
                )
            )
    except LaunchError as exc:
        state.error = f"--sse-launch: {' '.join(str(exc).split())}"
        raise CheckFailed(state.error) from None
    if state.selected:
        state.report = run_suite_sync(state.url, state.profile, only=state.selected)
    else:  # only the fixture was asked for: the main capture is enough
        state.report = run_suite_sync(
            state.url, state.profile, only=state.only, skip=[*state.skip, *MAIN_ONLY_SKIP]
        )
    return state.report


@pytest.fixture(scope="session")
def sse_report(request: pytest.FixtureRequest) -> Report:
    """The suite's report for --sse-url (captured once per session)."""
    state = request.config.stash.get(STATE, None)
    if state is None:
        pytest.skip(f"no SSE endpoint: give --sse-url, {ENV_URL} or the sse_url ini key")
    try:
        return _ensure_report(request.session, state)
    except CheckFailed as exc:
        pytest.fail(exc.text, pytrace=False)


@pytest.fixture(scope="session")
def sse_capture(sse_report: Report) -> Capture:
    """The main capture: status, headers, chunks (bytes + arrival times), events with times."""
    if sse_report.unreachable:
        pytest.fail(
            f"cannot reach {sse_report.target}: {sse_report.capture.end_message}", pytrace=False
        )
    return sse_report.capture


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.report is None:
        return
    cap = state.report.capture
    terminalreporter.write_line(
        f"sse-conformance: {state.url} status={cap.status} events={len(cap.events)} "
        f"ended={cap.end_reason} after {cap.t_end:.2f}s; exit code of the CLI would be "
        f"{state.report.exit_code(state.strict)}"
        + (f"; HTML report {state.html_report}" if state.html_report else "")
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    try:
        if state.report is not None and state.json_report:
            from conformance.reports.json import write_json

            Path(state.json_report).parent.mkdir(parents=True, exist_ok=True)
            write_json(state.report, state.json_report, strict=state.strict)
        if state.report is not None and state.html_report:
            from conformance.reports.html import write_html_report

            write_html_report(
                state.report,
                state.html_report,
                launch_output=state.server.output() if state.server else None,
                strict=state.strict,
            )
    finally:
        state.stack.close()  # stops a launched server, whatever happened
