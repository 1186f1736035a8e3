"""The reconnecting client: what a browser's EventSource does after its connection ends.

WHATWG HTML, "Processing model": when the response ends or the connection drops, the user agent
waits the reconnection time (the stream's last valid ``retry``, else its own default: 3 s in
Chromium) and requests the same URL again, with ``Last-Event-ID: <last event ID string>`` when that
string is not empty. Two runs model it, both over :func:`conformance.capture.http.capture`, so they
are bounded by the same :class:`~conformance.capture.model.Limits` and never raise:

- the *cut* (reconnect.resume): a client that reads ``cut_after`` events, hangs up, waits
  ``min(retry, reconnect_delay_max)`` and reconnects with the last id, then reads to the end.
  It runs alongside the main capture.
- *after the end* (reconnect.after-end): once the main capture ended by itself, one reconnect with
  its last id, read only until the first event or ``close_grace``: a right server answers 204
  (which stops EventSource) or a 200 that replays nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from conformance.capture.http import capture
from conformance.capture.model import (
    LEFT_MIN,
    Capture,
    CaptureRequest,
    EndReason,
    IsLast,
    Limits,
    limits_left,
)

CHROMIUM_DEFAULT_DELAY = 3.0  # seconds: Chromium's kDefaultReconnectDelay (event_source.cc)


@dataclass(frozen=True)
class ReconnectRun:
    """The reconnecting client's captures; times are seconds since the suite started."""

    cut_after: int
    cut: Capture | None = None  # the first connection, hung up after cut_after events
    resumed: Capture | None = None  # the reconnect after the cut (None: no cut happened)
    cut_at: float = 0.0
    resumed_at: float = 0.0
    delay: float = 0.0  # what this client waited before the reconnect
    browser_delay: float = CHROMIUM_DEFAULT_DELAY  # what Chromium would wait (retry, else 3 s)
    after_end: Capture | None = None  # the reconnect once the main stream ended (None: not run)
    after_end_at: float = 0.0
    after_end_delay: float = 0.0

    def captures(self) -> list[Capture]:
        """Every connection this client opened, in order (for reports)."""
        return [c for c in (self.cut, self.resumed, self.after_end) if c is not None]


def default_cut_after(cut_after: int | None, expect_count: int | None) -> int:
    """The cut point: as asked, else a third of the expected count, at least 1."""
    if cut_after is not None:
        return max(1, cut_after)
    return max(1, (expect_count or 0) // 3)


def browser_delay(retry_ms: int | None) -> float:
    """What a browser waits before reconnecting: the stream's retry, else Chromium's 3 s."""
    return CHROMIUM_DEFAULT_DELAY if retry_ms is None else retry_ms / 1000


def last_event_id(cap: Capture) -> str:
    """The EventSource's last event ID string after this connection (set at each dispatch)."""
    return cap.last_event_id


def reconnect_request(request: CaptureRequest, last_id: str) -> CaptureRequest:
    """The same request, plus ``Last-Event-ID`` only when the last id is not empty (as browsers)."""
    return dataclasses.replace(request, last_event_id=last_id or request.last_event_id)


def ended_by_itself(cap: Capture) -> bool:
    """The server ended a 200 stream cleanly: where a browser that missed the end reconnects."""
    return cap.status == 200 and cap.end_reason is EndReason.CLOSED


async def _cut_and_resume(
    request: CaptureRequest,
    limits: Limits,
    is_last: IsLast | None,
    cut_after: int,
    delay_max: float,
    t0: float,
) -> tuple[Capture, Capture | None, float, float, float, float]:
    cut = await capture(request, limits, is_last=is_last, abort_after_events=cut_after)
    cut_at = time.monotonic() - t0
    if cut.end_reason is not EndReason.ABORTED:
        return cut, None, cut_at, 0.0, 0.0, browser_delay(cut.retry)
    wanted = browser_delay(cut.retry)
    delay = min(wanted, delay_max)
    await asyncio.sleep(delay)
    resumed_at = time.monotonic() - t0
    # what is left of the run's deadline: the run ends on time whatever the server does
    left = limits_left(limits, resumed_at)
    resumed = await capture(reconnect_request(request, last_event_id(cut)), left, is_last=is_last)
    return cut, resumed, cut_at, resumed_at, delay, wanted


def after_end_limits(limits: Limits, elapsed: float) -> Limits:
    """The limits of the after-end reconnect, started ``elapsed`` seconds into the run: what is
    left of the run's deadline (:func:`limits_left`), and no longer than it takes to connect, get
    a head and wait ``close_grace`` for the first event, so the run ends within its deadline
    whatever the server does on the reconnect. Never raises."""
    left = limits_left(limits, elapsed)
    most = left.connect_timeout + left.first_byte_timeout + limits.close_grace
    return dataclasses.replace(
        left,
        idle_timeout=min(left.idle_timeout, max(limits.close_grace, 0.1)),
        deadline=min(left.deadline, most),
        hold=None if left.hold is None else min(left.hold, most),
    )


async def _after_end(
    request: CaptureRequest, limits: Limits, delay_max: float, main: Capture, elapsed: float
) -> tuple[Capture, float]:
    """One reconnect after the main stream's end, started ``elapsed`` seconds into the run: the
    delay and the capture both come out of what is left of the run's deadline."""
    rest = max(limits.deadline - elapsed, 0.0) if limits.hold is None else None
    delay = min(browser_delay(main.retry), delay_max)
    if rest is not None:
        delay = min(delay, max(rest - LEFT_MIN, 0.0))
    await asyncio.sleep(delay)
    short = after_end_limits(limits, elapsed + delay)
    after = await capture(
        reconnect_request(request, last_event_id(main)), short, abort_after_events=1
    )
    return after, delay


async def reconnect_run(
    request: CaptureRequest,
    limits: Limits,
    *,
    main: Awaitable[Capture],
    cut_after: int,
    delay_max: float,
    is_last: IsLast | None = None,
    t0: float | None = None,
) -> ReconnectRun:
    """Cut-and-resume alongside the main capture, then one reconnect after the main stream's end.

    ``main`` is the main capture (a task the runner also awaits); the after-end reconnect only
    runs when it ended by itself. Never raises for network trouble: each connection's
    ``end_reason`` says how it went.
    """
    start = time.monotonic() if t0 is None else t0
    resume = asyncio.ensure_future(
        _cut_and_resume(request, limits, is_last, cut_after, delay_max, start)
    )
    try:
        main_cap = await main
        after: Capture | None = None
        after_at = after_delay = 0.0
        if ended_by_itself(main_cap):
            after_at = time.monotonic() - start
            after, after_delay = await _after_end(request, limits, delay_max, main_cap, after_at)
            after_at += after_delay
        cut, resumed, cut_at, resumed_at, delay, wanted = await resume
    finally:
        if not resume.done():
            resume.cancel()
    return ReconnectRun(
        cut_after=cut_after,
        cut=cut,
        resumed=resumed,
        cut_at=cut_at,
        resumed_at=resumed_at,
        delay=delay,
        browser_delay=wanted,
        after_end=after,
        after_end_at=after_at,
        after_end_delay=after_delay,
    )
