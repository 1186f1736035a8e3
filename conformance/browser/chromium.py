"""Which Chromium to drive (the suite's ``--browser`` and the e2e tests), decided once per run.

Playwright's own Chromium download is not reachable from every machine (this one included), so
both accept, in order: a path the user names (``--chromium-path`` or ``CHROMIUM_PATH``), Playwright's
own build when it is installed, then a system Chromium on the PATH. When none exists the run stops
with one line that says how to get one, instead of Playwright's long download advice.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "CHROMIUM_PATH"
SYSTEM_NAMES: tuple[str, ...] = ("chromium", "chromium-browser")
SYSTEM_PATHS: tuple[str, ...] = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

# Flags that keep a headless Chromium from talking to anything but the page under test
# (no component updates, no sync, no QUIC probes) and from needing a GPU. The suite adds
# SUITE_ARGS (see there).
LAUNCH_ARGS: tuple[str, ...] = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

HOW_TO_GET_ONE = (
    "no Chromium found: run `playwright install chromium`, or install a system one "
    "(Debian: `apt-get install -y chromium`), or point CHROMIUM_PATH / --chromium-path at its executable"
)


# The suite's page has a made-up origin (--origin http://app.example) that Playwright serves, and
# the endpoint is often on loopback: Chromium's Local/Private Network Access rules would block that
# (or ask the user), which says nothing about the server. CORS itself stays fully enforced.
SUITE_ARGS: tuple[str, ...] = (
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
    "PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks",
)


class BrowserNotFound(Exception):
    """Raised with a single printable line (e2e's conftest turns it into ``pytest.exit``, the
    suite into a usage error, exit 2)."""


@dataclass(frozen=True)
class BrowserChoice:
    executable: str
    source: str  # "option", "env", "playwright" or "system": said in the pytest header


def _is_executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def find_chromium(
    *,
    explicit: str | None,
    environ: dict[str, str] | None = None,
    playwright_executable: str | None,
    which: Callable[[str], str | None] = shutil.which,
    is_executable: Callable[[str], bool] = _is_executable,
    system_names: Sequence[str] = SYSTEM_NAMES,
    system_paths: Sequence[str] = SYSTEM_PATHS,
) -> BrowserChoice:
    """Pick the Chromium to launch, or raise BrowserNotFound with one line.

    A path the user gave explicitly must work: silently falling back to another browser would
    make a run pass against a browser the user did not ask for.
    """
    env = os.environ if environ is None else environ
    for source, given in (("option", explicit), ("env", env.get(ENV_VAR) or None)):
        if given is None:
            continue
        resolved = given if os.sep in given else (which(given) or given)
        if not is_executable(resolved):
            where = "--chromium-path" if source == "option" else ENV_VAR
            raise BrowserNotFound(f"{where}={given!r} is not an executable file")
        return BrowserChoice(resolved, source)
    if playwright_executable and is_executable(playwright_executable):
        return BrowserChoice(playwright_executable, "playwright")
    for name in system_names:
        found = which(name)
        if found and is_executable(found):
            return BrowserChoice(found, "system")
    for path in system_paths:
        if is_executable(path):
            return BrowserChoice(path, "system")
    raise BrowserNotFound(HOW_TO_GET_ONE)
