"""Fixtures of the browser tests: which Chromium, which server, which (possibly broken) page.

What tests import by name (:class:`~e2e.harness.PageTarget`, :class:`~e2e.harness.BrowserWatch`,
shared waits) lives in :mod:`e2e.harness`; tests never import this conftest.

Without ``--base-url`` the reference is served in-process on a free loopback port behind a
:class:`~e2e.servers.TrafficRecorder`, so tests can also assert what the server saw. With
``--base-url URL`` the same tests drive that deployment; the few that must control the server
(kill it, replace its stream) skip there, and the rest fall back to what the browser saw.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, BrowserType, Page, expect

from e2e.broken import Mutant, MutantError, get_mutant, make_broken_copy
from e2e.browser import LAUNCH_ARGS, BrowserChoice, BrowserNotFound, find_chromium
from e2e.harness import BrowserWatch, PageTarget
from e2e.servers import serve_reference
from e2e.ui import TIMELINE_SCRIPT, MonitorPage, PageConfig

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "reference" / "static"
SESSION_INTERVAL = 0.05  # fast, so a 22-message run takes about a second
CHOSEN_BROWSER = pytest.StashKey[BrowserChoice]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("e2e", "RAM monitor browser tests")
    group.addoption(
        "--chromium-path",
        default=None,
        help="Chromium executable to drive (default: $CHROMIUM_PATH, Playwright's own, then the system's)",
    )
    group.addoption(
        "--static-dir",
        default=None,
        help="serve this folder as the page instead of reference/static/ (own reference server only)",
    )
    group.addoption(
        "--all-mutants",
        action="store_true",
        help="prove the tests fail on every broken page of e2e/broken.py, not just one (slow)",
    )
    group.addoption(
        "--broken-page",
        default=os.environ.get("E2E_BROKEN_PAGE") or None,
        help="run against a deliberately broken page (see e2e/broken.py); env E2E_BROKEN_PAGE",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "owned_server: needs a server the tests start and control (skipped with --base-url)",
    )
    name = config.getoption("--broken-page")
    if name:
        try:
            mutant = get_mutant(name)
        except MutantError as error:
            pytest.exit(str(error), returncode=4)
        if mutant.edit is not None and given_base_url(config):
            pytest.exit(
                f"--broken-page {name} edits reference/static/, which only works without --base-url",
                returncode=4,
            )
    chosen = config.getoption("--static-dir")
    if chosen and not Path(chosen).is_dir():
        pytest.exit(f"--static-dir {chosen} is not a directory", returncode=4)


def given_base_url(config: pytest.Config) -> str | None:
    value = config.getoption("--base-url", default=None) or config.getini("base_url")
    return str(value).rstrip("/") if value else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    url = given_base_url(config)
    if not url:
        return
    skip = pytest.mark.skip(reason=f"needs a server the tests control; --base-url {url} is not")
    for item in items:
        if item.get_closest_marker("owned_server"):
            item.add_marker(skip)


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium(pytestconfig: pytest.Config, browser_type: BrowserType) -> BrowserChoice:
    if browser_type.name != "chromium":
        pytest.exit(f"these tests drive Chromium only, not {browser_type.name}", returncode=4)
    try:
        choice = find_chromium(
            explicit=pytestconfig.getoption("--chromium-path"),
            playwright_executable=browser_type.executable_path,
        )
    except BrowserNotFound as error:
        pytest.exit(str(error), returncode=4)
    pytestconfig.stash[CHOSEN_BROWSER] = choice
    return choice


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say which browser a green run is evidence for."""
    choice = config.stash.get(CHOSEN_BROWSER, None)
    if choice is not None:
        terminalreporter.write_line(f"e2e: drove Chromium {choice.executable} ({choice.source})")


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium: BrowserChoice
) -> dict[str, Any]:
    """pytest-playwright's launch options plus the Chromium we found and quiet flags."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium.executable,
        "args": [*browser_type_launch_args.get("args", []), *LAUNCH_ARGS],
    }


# --- the server and the page under test ----------------------------------------------------------


@pytest.fixture(scope="session")
def mutant(pytestconfig: pytest.Config) -> Mutant | None:
    name = pytestconfig.getoption("--broken-page")
    return get_mutant(name) if name else None


@pytest.fixture(scope="session")
def static_dir(
    pytestconfig: pytest.Config, mutant: Mutant | None, tmp_path_factory: pytest.TempPathFactory
) -> Path | None:
    """The page folder served: None for reference/static/, else --static-dir or a mutant's broken copy."""
    chosen = pytestconfig.getoption("--static-dir")
    source = Path(chosen).resolve() if chosen else STATIC_DIR
    if mutant is None or mutant.edit is None:
        return source if chosen else None
    try:
        return make_broken_copy(mutant, source, tmp_path_factory.mktemp("broken") / "static")
    except MutantError as error:
        pytest.exit(str(error), returncode=4)


def fetch_config(base_url: str) -> PageConfig:
    try:
        response = httpx.get(f"{base_url}/api/config", timeout=10)
        response.raise_for_status()
        return PageConfig.from_json(response.json())
    except (httpx.HTTPError, ValueError, KeyError) as error:
        pytest.exit(f"cannot read {base_url}/api/config: {error}", returncode=4)


@pytest.fixture(scope="session")
def session_target(pytestconfig: pytest.Config, static_dir: Path | None) -> Iterator[PageTarget]:
    url = given_base_url(pytestconfig)
    if url:
        yield PageTarget(url, fetch_config(url), None)
        return
    with serve_reference(interval=SESSION_INTERVAL, static_dir=static_dir) as served:
        yield PageTarget(served.base_url, fetch_config(served.base_url), served)


@pytest.fixture(scope="session")
def base_url(session_target: PageTarget) -> str:
    """Overrides pytest-playwright's: the given --base-url, else our own reference."""
    return session_target.base_url


@pytest.fixture
def target(session_target: PageTarget) -> PageTarget:
    """The session's target, with its traffic log emptied so a test sees only its own requests."""
    if session_target.traffic is not None:
        session_target.traffic.clear()
    return session_target


@pytest.fixture
def make_target(
    session_target: PageTarget, static_dir: Path | None
) -> Iterator[Callable[..., PageTarget]]:
    """A reference with its own interval/sample count; against a deployment, the deployment."""
    with contextlib.ExitStack() as stack:

        def make(*, interval: float, samples: int = 20) -> PageTarget:
            if session_target.served is None:
                return session_target
            served = stack.enter_context(
                serve_reference(interval=interval, samples=samples, static_dir=static_dir)
            )
            return PageTarget(served.base_url, fetch_config(served.base_url), served)

        yield make


@pytest.fixture
def context(new_context: Callable[..., BrowserContext], mutant: Mutant | None) -> BrowserContext:
    """pytest-playwright's context plus the timeline recorder and the mutant's script, if any."""
    ctx = new_context()
    ctx.add_init_script(TIMELINE_SCRIPT)
    if mutant is not None and mutant.script is not None:
        ctx.add_init_script(mutant.script)
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def watch(page: Page) -> BrowserWatch:
    return BrowserWatch(page)


@pytest.fixture
def monitor(page: Page, watch: BrowserWatch) -> MonitorPage:
    """The page, loaded and idle, with the browser watched from before the first request."""
    ui = MonitorPage(page)
    ui.open()
    return ui


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=15_000)
