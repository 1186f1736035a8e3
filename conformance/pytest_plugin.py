"""pytest plugin: ``pytest --sse-url URL`` judges an SSE endpoint, one test item per check.

Why a plugin next to the CLI: teams already have pytest in CI, with ``-k``, ``-x``, ``--junitxml``,
annotations and their own fixtures. Each check becomes an item named by its id, so all of that
works unchanged, and the session fixture ``sse_capture`` lets a team add checks of its own on the
very capture the suite judged (one stream, captured once per session, lazily on first use).

Options mirror the CLI: ``--sse-<flag>`` for every setting of ``sse-conformance`` (both are
generated from the settings table, :mod:`conformance.settings`, so the two never drift), and the
values are converted by the same code (:func:`conformance.profiles.profile_from_flags`,
:func:`conformance.settings.run_options`). The URL can also come from the ``SSE_URL`` environment
variable or the ``sse_url`` ini key, like pytest-base-url.

Without a URL the plugin only registers its options: no items, no hooks with effects, so
installing the package changes no other pytest run.
"""

from __future__ import annotations

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
    from conformance.settings import RunOptions, Setting

ENV_URL = "SSE_URL"
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


def _mirrored() -> list[Setting]:
    """The settings the plugin offers as ``--sse-<flag>`` (all but those pytest has itself)."""
    from conformance.settings import SETTINGS

    return [s for s in SETTINGS if s.option is not None and s.pytest]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sse-conformance", "SSE conformance (conformance.pytest_plugin)")
    group.addoption(
        "--sse-url",
        dest="sse_url",
        default=os.environ.get(ENV_URL),
        metavar="URL",
        help=f"judge this SSE endpoint: one test item per check (env {ENV_URL}, ini sse_url)",
    )
    parser.addini("sse_url", "SSE endpoint to judge (like --sse-url)", default=None)
    for setting in _mirrored():
        flag = setting.pytest_option
        kwargs: dict[str, Any] = {
            "dest": setting.pytest_dest,
            "help": f"{setting.help} (sse-conformance {setting.option})",
        }
        if setting.kind is bool:
            kwargs.update(action="store_true", default=None)
        else:
            kwargs.update(metavar=setting.metavar, default=None)
            if setting.repeat:
                kwargs.update(action="append", default=[])
            if setting.choices:
                kwargs.update(choices=setting.choices)
        group.addoption(flag, **kwargs)
        if setting.ini and setting.kind is bool:
            parser.addini(setting.pytest_dest, f"like {flag}", type="bool", default=False)
        elif setting.ini:
            parser.addini(setting.pytest_dest, f"like {flag}", default=None)


@dataclass
class _State:
    """Per-session plugin state (in config.stash, never in module globals: pytester reuses us)."""

    url: str
    profile: Profile
    options: RunOptions
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
    """The session's profile and run options from the ``--sse-*`` options (ini keys as fallback);
    a bad value is a pytest usage error with the suite's one-line reason."""
    from conformance.checks.registry import select
    from conformance.errors import UsageError
    from conformance.profiles import profile_from_flags
    from conformance.settings import check_url, run_options

    values: dict[str, Any] = {}
    for setting in _mirrored():
        value = config.getoption(setting.pytest_dest)
        if value is None and setting.ini:
            value = config.getini(setting.pytest_dest) or None
        values[setting.name] = value
    try:
        check_url(url)
        options = run_options(values)
        select(options.only, options.skip)
        profile = profile_from_flags(values)
    except UsageError as exc:
        raise pytest.UsageError(f"sse-conformance: {exc}") from None
    return _State(url=url, profile=profile, options=options)


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE, None)
    if state is None:
        return None
    launch = f", launching {state.options.launch!r}" if state.options.launch else ""
    return f"sse-conformance: {state.url} (profile {state.profile.name}{launch})"


class SSESuite(pytest.Collector):
    """The check catalogue as a collector, so items have stable node ids: sse-conformance::<id>."""

    def collect(self) -> list[pytest.Item]:
        from conformance import checks

        state = self.config.stash[STATE]
        return [
            SSECheckItem.from_parent(self, name=spec.id, check_id=spec.id, title=spec.title)
            for spec in checks.select(
                state.options.only, state.options.skip, state.profile.contract
            )
        ]


class SSECheckItem(pytest.Item):
    def __init__(self, *, check_id: str, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_id = check_id
        self.title = title
        self.add_marker(pytest.mark.sse_check(check_id))

    def setup(self) -> None:
        """Capture once (first item); an unreachable target is one setup error, and the session
        stops there rather than failing every check with the same line."""
        state = self.config.stash[STATE]
        report = _ensure_report(self.session, state)
        if report.unreachable:
            from conformance.capture.connect_errors import unreachable_message

            cap = report.capture
            why = cap.end_message or str(cap.end_reason)
            message = unreachable_message(state.url, why, bool(cap.redirects))
            self.session.shouldstop = message
            pytest.fail(message, pytrace=False)

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        report = _ensure_report(self.session, state)
        result = report.result(self.check_id)
        from conformance.models import Verdict

        self.user_properties.append(("verdict", result.verdict.value))
        self.user_properties.append(("reason", result.reason))
        strict = state.options.strict
        if result.verdict is Verdict.FAIL or (result.verdict is Verdict.WARN and strict):
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


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``pytest --sse-url URL`` with no test path collects only the checks: run where it is
    typed (a project's root, this repository) it must not pick up that folder's own tests (nor
    need their dependencies). Name a path to add tests of your own on ``sse_capture``."""
    if STATE not in config.stash or config.args_source is pytest.Config.ArgsSource.ARGS:
        return None
    return True


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
    from conformance.errors import LaunchError, UsageError, one_line
    from conformance.launch import launched
    from conformance.runner import browser_options, run_suite_sync

    options = state.options
    try:
        if options.launch:
            state.server = state.stack.enter_context(
                launched(
                    options.launch,
                    state.url,
                    ready_timeout=options.ready_timeout,
                    grace=options.launch_grace,
                )
            )
    except LaunchError as exc:
        state.error = f"--sse-launch: {one_line(str(exc))}"
        raise CheckFailed(state.error) from None
    browser = browser_options(options, state.profile)
    try:
        if state.selected:
            state.report = run_suite_sync(
                state.url, state.profile, only=state.selected, browser=browser
            )
        else:  # only the fixture was asked for: the main capture is enough
            state.report = run_suite_sync(
                state.url,
                state.profile,
                only=options.only,
                skip=[*options.skip, *MAIN_ONLY_SKIP],
            )
    except UsageError as exc:  # --sse-browser without Playwright or Chromium
        state.error = one_line(str(exc))
        raise CheckFailed(state.error) from None
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
        from conformance.capture.connect_errors import unreachable_message

        cap = sse_report.capture
        why = unreachable_message(sse_report.target, cap.end_message, bool(cap.redirects))
        pytest.fail(why, pytrace=False)
    return sse_report.capture


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.report is None:
        return
    cap = state.report.capture
    terminalreporter.write_line(
        f"sse-conformance: {state.url} status={cap.status} events={len(cap.events)} "
        f"ended={cap.end_reason} after {cap.t_end:.2f}s; exit code of the CLI would be "
        f"{state.report.exit_code(state.options.strict)}"
        + (f"; HTML report {state.options.html_report}" if state.options.html_report else "")
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    try:
        if state.report is not None:
            from conformance.errors import UsageError
            from conformance.reports import write_reports

            options = state.options
            try:
                write_reports(
                    state.report,
                    json=options.json_report,
                    html=options.html_report,
                    body=options.save_body,
                    strict=options.strict,
                    launch_output=state.server.output() if state.server else None,
                )
            except UsageError as exc:
                session.config.get_terminal_writer().line(
                    f"sse-conformance: error: {exc}", red=True
                )
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
    finally:
        state.stack.close()  # stops a launched server, whatever happened
