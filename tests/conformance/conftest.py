"""Fixtures for running the whole suite against the servers of ``testing/servers.py``.

The limits are tightened so that every run, even against a server that hangs, ends within a few
seconds: the defaults (10 s to the first byte, 60 s deadline) are right for users and far too
patient for a matrix of seventy servers.

The suite is imported inside the functions, so a broken runner cannot stop the parser's tests in
this directory from being collected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from testing.servers import Handler, threaded_sse_server

if TYPE_CHECKING:
    from conformance.models import Report
    from conformance.profiles import Profile

FAST_INTERVAL = 0.01
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
# reconnect.*: a browser waits the stream's retry (3 s by default); the matrix need not.
FAST_RECONNECT_DELAY = 0.05


def fast_profile(name: str = "ram-monitor", **overrides: Any) -> Profile:
    """The named profile at the test servers' pace, with limits that end every run quickly."""
    from conformance.profiles import load_profile

    settings: dict[str, Any] = {
        **FAST_LIMITS,
        "interval": FAST_INTERVAL,
        "first_event_timeout": FIRST_EVENT_TIMEOUT,
        "reconnect_delay_max": FAST_RECONNECT_DELAY,
    }
    if name == "generic":
        settings.pop("interval")
    return load_profile(name).replace(**{**settings, **overrides})


Judge = Callable[..., Awaitable["Report"]]


@pytest.fixture
def suite_against() -> Judge:
    """``await suite_against(handler, profile="ram-monitor", skip=(), **overrides)``: serve, judge, stop.

    The server runs in its own thread and event loop, like a real server in its own process, so
    the suite's clocks never wait on the server's work (and vice versa).
    """
    from conformance.runner import run_suite

    async def run(
        handler: Handler, profile: str = "ram-monitor", skip: Sequence[str] = (), **overrides: Any
    ) -> Report:
        with threaded_sse_server(handler) as server:
            return await run_suite(server.url, fast_profile(profile, **overrides), skip=skip)

    return run
