"""The suite at the test servers' pace, with limits that end every run within a few seconds.

The defaults (10 s to the first byte, 60 s deadline) are right for users and far too patient for
a matrix of seventy servers. The suite is imported inside the function, so a broken runner cannot
stop the parser's tests in this directory from being collected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.models import Report
    from conformance.profiles import Profile

FAST_INTERVAL = 0.01
# reconnect.*: a browser waits the stream's retry (3 s by default); the matrix need not.
FAST_RECONNECT_DELAY = 0.05
# Short, but not so short that a loaded 2-core machine (other test runs, browsers) trips them:
# every server here sends its first event within ~50 ms, so 2 s is a 40x margin.
FAST_LIMITS: dict[str, Any] = {
    "connect_timeout": 2.0,
    "first_byte_timeout": 2.0,
    "idle_timeout": 2.0,
    "deadline": 6.0,
    "close_grace": 0.75,
}
FIRST_EVENT_TIMEOUT = 2.0


def fast_profile(name: str = "ram-monitor", **overrides: Any) -> Profile:
    """The named profile at the test servers' pace, with limits that end every run quickly."""
    from conformance.profiles import load_profile

    settings: dict[str, Any] = {
        **FAST_LIMITS,
        "interval": FAST_INTERVAL,
        "reconnect_delay_max": FAST_RECONNECT_DELAY,
        "first_event_timeout": FIRST_EVENT_TIMEOUT,
    }
    if name == "generic":
        settings.pop("interval")
    return load_profile(name).replace(**{**settings, **overrides})


Judge = Callable[..., Awaitable["Report"]]
