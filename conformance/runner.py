"""Run the suite: capture the main stream (and, alongside it, the extra clients), then judge.

The extra clients of stream.concurrent and stream.disconnect run concurrently with the main
capture (asyncio.gather), so a full run takes about as long as one stream. They are only started
when their checks are selected, so ``--skip 'stream.*'`` really opens a single connection.
They keep no copy of what the main capture holds (:mod:`conformance.capture.lean`): each is
rehydrated once the main capture has ended, before any check reads it, so a run of eleven
connections costs about what the main capture does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from conformance import checks
from conformance.browser.model import BrowserOptions, BrowserRun
from conformance.capture.http import capture, warm_up
from conformance.capture.lean import LEAN_MAIN, MainBody, rehydrate
from conformance.capture.model import (
    Capture,
    CaptureFn,
    CaptureRequest,
    EndReason,
    Limits,
    limits_left,
)
from conformance.capture.reconnect import ReconnectRun, default_cut_after, reconnect_run
from conformance.checks.context import CheckContext, DisconnectRun
from conformance.checks.registry import CheckSpec
from conformance.contracts.follow_ups import FOLLOW_UPS, validate_profile
from conformance.models import FollowUpRecord, Report, Result, Verdict
from conformance.profiles import Profile
from conformance.reprs import run_quietly
from conformance.settings import RunOptions

if TYPE_CHECKING:
    from conformance.browser.session import ChromiumPage


@dataclass(frozen=True)
class Progress:
    """A snapshot of the main capture while it runs (for a progress line)."""

    events: int
    bytes: int
    elapsed: float
    phase: str  # "capturing" | "judging"


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class Clients:
    """What every client of one run shares: the request (built once per run), the profile, the
    run's start (time.monotonic()) and the transport that reads one stream; with --browser, the
    Chromium page, and ``main_done``, the main capture (a task jobs may wait on)."""

    request: CaptureRequest
    profile: Profile
    t0: float
    read: CaptureFn = capture
    browser: ChromiumPage | None = None
    main_done: Awaitable[Capture] | None = None  # the main capture, for jobs that follow its end

    def stream(
        self, *, abort_after_events: int | None = None, limits: Limits | None = None
    ) -> Awaitable[Capture]:
        """One more client reading the stream (to its end, or hanging up after that many
        events), with the profile's limits unless given. Never raises for network trouble (the
        transport's promise)."""
        limits = limits or self.profile.limits
        if abort_after_events is not None:
            return self.read(self.request, limits, abort_after_events=abort_after_events)
        return self.read(self.request, limits, is_last=self.profile.is_last)


async def _concurrent(run: Clients) -> list[Capture]:
    """stream.concurrent: ``concurrency`` clients alongside the main capture."""
    return list(await asyncio.gather(*(run.stream() for _ in range(run.profile.concurrency))))


async def _disconnect(run: Clients) -> DisconnectRun:
    """stream.disconnect: clients that hang up mid-stream, then one that must get it whole.

    The follow-up starts as soon as the aborting clients have hung up and gets what is left of
    the run's deadline (or hold), never a whole one more: the run ends within its deadline (plus
    the close grace) whatever the server does. When no aborting client got to hang up (no event,
    no response) there is nothing to follow up, and the check says why from their captures.
    """
    profile = run.profile
    if profile.disconnect_clients == 0:
        return DisconnectRun()  # no aborting client, so no follow-up either (e.g. one session each)
    after = profile.disconnect_after_events
    aborted = await asyncio.gather(
        *(run.stream(abort_after_events=after) for _ in range(profile.disconnect_clients))
    )
    if not any(c.end_reason is EndReason.ABORTED for c in aborted):
        return DisconnectRun(list(aborted), None, time.monotonic() - run.t0)
    await asyncio.sleep(0.05)  # let the server notice the hang-ups before the next client arrives
    started = time.monotonic() - run.t0
    limits = follow_up_limits(profile, started)
    follow_up = await run.stream(limits=limits)
    return DisconnectRun(list(aborted), follow_up, started, limits.deadline)


def follow_up_limits(profile: Profile, started: float) -> Limits:
    """The limits of the stream.disconnect follow-up, started ``started`` seconds into the run:
    what is left of the deadline (:func:`~conformance.capture.model.limits_left`); held, at least
    the first-event patience, so a held run's follow-up can still see its first event. Never
    raises."""
    limits = profile.limits
    if limits.hold is not None:  # held: end with the main capture, not a whole hold later
        rest = max(limits.hold - started, min(limits.hold, profile.first_event_timeout))
        return dataclasses.replace(limits, hold=rest)
    return limits_left(limits, started)


async def _browser(run: Clients) -> BrowserRun | None:
    """browser.eventsource: the endpoint in headless Chromium, closed a grace after the main
    capture ends (None without --browser)."""
    if run.browser is None:
        return None
    done = asyncio.Event()
    if run.main_done is not None:
        asyncio.ensure_future(run.main_done).add_done_callback(lambda _: done.set())
    return await run.browser.record(run.t0, done, run.profile.limits.deadline)


async def _reconnect(run: Clients) -> ReconnectRun | None:
    """reconnect.*: cut and resume alongside the main capture, one reconnect after its end.

    EventSource only sends GET, and fetch-based clients do not reconnect by themselves: a POST
    stream gets no reconnecting client (None: its checks say so)."""
    profile = run.profile
    if profile.method.upper() != "GET" or run.main_done is None:
        return None
    return await reconnect_run(
        run.request,
        profile.limits,
        main=run.main_done,
        cut_after=default_cut_after(profile.cut_after, profile.expect_count),
        delay_max=profile.reconnect_delay_max,
        is_last=profile.is_last,
        t0=run.t0,
    )


def _reconnect_captures(run: ReconnectRun | None) -> list[Capture]:
    return [] if run is None else run.captures()


T = TypeVar("T")


@dataclass(frozen=True)
class ExtraClients(Generic[T]):
    """The clients a ``needs`` name asks for: how to run them, and their captures for the report."""

    run: Callable[[Clients], Awaitable[T]]
    captures: Callable[[T], list[Capture]]


# One job per ``needs`` name of the catalogue; its result fills the CheckContext field of that
# name. A reconnecting client is one more entry (and field), the checks stay as they are.
EXTRA_CLIENTS: dict[str, ExtraClients[Any]] = {
    "concurrent": ExtraClients(_concurrent, list),
    "disconnect": ExtraClients(_disconnect, DisconnectRun.captures),
    "browser": ExtraClients(_browser, lambda _: []),  # not a capture: Report.browser
    "reconnect": ExtraClients(_reconnect, _reconnect_captures),
}


class LoopLag:
    """Records when this event loop woke up late (a busy machine, a blocking call).

    Checks that read timing (stream.incremental) discount those stalls, so a suite that could
    not read the socket does not blame the server for the burst it then read.
    """

    TICK = 0.01
    THRESHOLD = 0.05

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []  # (monotonic time it ended, length)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK)
            now = time.monotonic()
            late = now - before - self.TICK
            if late > self.THRESHOLD:
                self.stalls.append((now, late))

    def __enter__(self) -> LoopLag:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def judge(ctx: CheckContext, specs: Sequence[CheckSpec]) -> list[Result]:
    """Run each check on the context; a crashing check becomes a fail that says it is a suite bug.
    Never raises."""
    results = []
    for spec in specs:
        try:
            outcome = spec.fn(ctx)
        except Exception as exc:  # a suite bug must not hide the other verdicts
            reason = f"the check crashed (suite bug): {type(exc).__name__}: {exc}"
            results.append(
                Result(spec.id, Verdict.FAIL, reason, (), spec.title, spec.severity, spec.spec)
            )
            continue
        results.append(spec.result(outcome))
    return results


def browser_options(options: RunOptions, profile: Profile) -> BrowserOptions | None:
    """What ``--browser`` asks for (None without it): the profile's origin and with_credentials,
    the run's Chromium. Never raises."""
    if not options.browser:
        return None
    return BrowserOptions(
        profile.origin,
        profile.with_credentials,
        options.chromium_path,
        accept_certificate=profile.cacert is not None or profile.insecure,
    )


async def run_suite(
    target: str,
    profile: Profile,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    progress: ProgressFn | None = None,
    read_stream: CaptureFn | None = None,
    browser: BrowserOptions | None = None,
) -> Report:
    """Capture ``target`` once (plus the extra clients) and judge every selected check.

    The request is built once and every client sends it; ``read_stream`` is the transport (the
    HTTP/1.1 :func:`~conformance.capture.http.capture` by default). ``browser``: also open the
    endpoint in headless Chromium (launched before the capture starts, so it costs no stream
    time). Raises ValueError for an ``only``/``skip`` glob that matches no check, and
    BrowserUnavailable (a UsageError) when ``browser`` is given but Playwright or Chromium is
    missing; network trouble never raises (it is in ``report.capture.end_reason`` and the
    verdicts).
    """
    validate_profile(profile)
    specs = checks.select(only, skip, profile.contract)
    needs = set().union(*(s.needs for s in specs)) if specs else set()
    async with contextlib.AsyncExitStack() as stack:
        page = None
        if browser is not None and "browser" in needs:
            from conformance.browser.session import chromium_page

            page = await stack.enter_async_context(chromium_page(browser, target))
        return await _run(target, profile, specs, needs, progress, read_stream or capture, page)


async def _run(
    target: str,
    profile: Profile,
    specs: Sequence[CheckSpec],
    needs: set[str],
    progress: ProgressFn | None,
    read_stream: CaptureFn,
    page: ChromiumPage | None,
) -> Report:
    """:func:`run_suite` once the browser (if any) is up. Never raises for network trouble."""
    request = profile.capture_request(target)
    warm_up(request)
    started = datetime.now(UTC)
    t0 = time.monotonic()

    seen = [0, 0]  # events, bytes of the main capture so far
    main_body = MainBody()  # what the extra clients compare their reads with (capture/lean.py)

    def on_chunk(cap: Capture) -> None:
        main_body.cap = cap
        seen[:] = [len(cap.events), cap.decoded_bytes]
        if progress is not None:
            progress(Progress(seen[0], seen[1], time.monotonic() - t0, "capturing"))

    async def tick() -> None:
        """Progress while nothing arrives, too: a silent server should not look like a hung suite."""
        while progress is not None:
            await asyncio.sleep(0.25)
            progress(Progress(seen[0], seen[1], time.monotonic() - t0, "capturing"))

    clients = Clients(request, profile, t0, read_stream, page)
    # needs of contracts' follow-ups (FOLLOW_UPS, run after the capture) are not extra clients
    jobs = {name: EXTRA_CLIENTS[name] for name in sorted(needs) if name in EXTRA_CLIENTS}
    main_task = asyncio.ensure_future(
        clients.read(clients.request, profile.limits, is_last=profile.is_last, progress=on_chunk)
    )
    # the reconnect and browser jobs wait on the main capture
    clients = dataclasses.replace(clients, main_done=main_task)
    ticker = asyncio.ensure_future(tick())
    try:
        with LoopLag() as lag:
            # the extra clients' tasks start in a context that keeps them lean: what the main
            # capture holds byte for byte is not kept twice (rehydrated below)
            lean = LEAN_MAIN.set(main_body)
            try:
                extra_tasks = [asyncio.ensure_future(job.run(clients)) for job in jobs.values()]
            finally:
                LEAN_MAIN.reset(lean)
            main, *outcomes = await asyncio.gather(main_task, *extra_tasks)
    finally:
        ticker.cancel()
    for name, outcome in zip(jobs, outcomes, strict=True):
        for cap in jobs[name].captures(outcome):
            rehydrate(cap, main)
    if progress is not None:
        progress(Progress(len(main.events), main.decoded_bytes, time.monotonic() - t0, "judging"))
    follow_ups: dict[str, FollowUpRecord] = {}
    for name, job in FOLLOW_UPS.items():
        if name in needs and (record := await job(target, profile, main)) is not None:
            follow_ups[name] = record
    extras: dict[str, Any] = dict(zip(jobs, outcomes, strict=True))
    ctx = CheckContext(main, profile, suite_stalls=tuple(lag.stalls), extra=follow_ups, **extras)
    results = judge(ctx, specs)
    extra = {
        name: jobs[name].captures(value) for name, value in extras.items() if name != "browser"
    }  # the browser's run is no HTTP capture: Report.browser holds it
    return Report(
        target=target,
        profile=profile,
        started=started,
        duration_s=time.monotonic() - t0,
        results=results,
        capture=main,
        extra_captures=extra,
        browser=extras.get("browser"),
        follow_ups=follow_ups,
    )


def run_suite_sync(
    target: str,
    profile: Profile,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    progress: ProgressFn | None = None,
    browser: BrowserOptions | None = None,
) -> Report:
    """:func:`run_suite` for callers without an event loop (CLI, pytest plugin, scripts).

    Raises what :func:`run_suite` raises, and RuntimeError when called from a running loop.
    """
    return run_quietly(
        run_suite(target, profile, only=only, skip=skip, progress=progress, browser=browser)
    )
