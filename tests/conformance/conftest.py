"""Fixtures for running the whole suite against the test servers of ``testing/``.

The profile and its tightened limits live in :mod:`tests.conformance.fast_suite`, so tests import
them from there rather than from this conftest. The suite is imported inside the functions, so a
broken runner cannot stop the parser's tests in this directory from being collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from testing.rawhttp import Handler, threaded_sse_server
from tests.conformance.fast_suite import Judge, fast_profile

if TYPE_CHECKING:
    from conformance.models import Report


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
