"""Which Chromium the browser tests drive: the finder lives in :mod:`conformance.browser.chromium`
(the suite's ``--browser`` uses the same one); this module keeps the e2e tests' imports short."""

from __future__ import annotations

from conformance.browser.chromium import (
    ENV_VAR,
    HOW_TO_GET_ONE,
    LAUNCH_ARGS,
    SYSTEM_NAMES,
    SYSTEM_PATHS,
    BrowserChoice,
    BrowserNotFound,
    find_chromium,
)

__all__ = [
    "ENV_VAR",
    "HOW_TO_GET_ONE",
    "LAUNCH_ARGS",
    "SYSTEM_NAMES",
    "SYSTEM_PATHS",
    "BrowserChoice",
    "BrowserNotFound",
    "find_chromium",
]
