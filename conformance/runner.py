"""Run the suite: capture the main stream (and, alongside it, the extra clients), then judge.

The extra clients of stream.concurrent and stream.disconnect run concurrently with the main
capture (asyncio.gather), so a full run takes about as long as one stream. They are only started
when their checks are selected, so ``--skip 'stream.*'`` really opens a single connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from conformance import checks
from conformance.capture.http import capture, warm_up
from conformance.capture.model import Capture
from conformance.capture.reconnect import ReconnectRun, default_cut_after, reconnect_run
from conformance.checks.context import CheckContext, DisconnectRun
from conformance.checks.registry import CheckSpec
from conformance.models import Report, Result, Verdict
from conformance.profiles import Profile


@dataclass(frozen=True)
class Progress:
    """A snapshot of the main capture while it runs (for a progress line)."""

    events: int
    bytes: int
    elapsed: float
    phase: str  # "capturing" | "judging"


ProgressFn = Callable[[Progress], None]


async def _concurrent(url: str, profile: Profile) -> list[Capture]:
    request = profile.capture_request(url)
    return list(
        await asyncio.gather(
            *(
                capture(request, profile.limits, is_last=profile.is_last)
                for _ in range(profile.concurrency)
            )
        )
    )


async def _disconnect(url: str, profile: Profile, t0: float) -> DisconnectRun:
    request = profile.capture_request(url)
    aborted = await asyncio.gather(
        *(
            capture(request, profile.limits, abort_after_events=profile.disconnect_after_events)
            for _ in range(profile.disconnect_clients)
        )
    )
    await asyncio.sleep(0.05)  # let the server notice the hang-ups before the next client arrives
    started = time.monotonic() - t0
    follow_up = await capture(request, profile.limits, is_last=profile.is_last)
    return DisconnectRun(list(aborted), follow_up, started)


def _reconnect(
    url: str, profile: Profile, main: Awaitable[Capture], t0: float
) -> Awaitable[ReconnectRun]:
    """reconnect.*: cut and resume alongside the main capture, one reconnect after its end."""
    return reconnect_run(
        profile.capture_request(url),
        profile.limits,
        main=main,
        cut_after=default_cut_after(profile.cut_after, profile.expect_count),
        delay_max=profile.reconnect_delay_max,
        is_last=profile.is_last,
        t0=t0,
    )


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
    """Run each check on the context; a crashing check becomes a fail that says it is a suite bug."""
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


async def run_suite(
    target: str,
    profile: Profile,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    progress: ProgressFn | None = None,
) -> Report:
    """Capture ``target`` once (plus the extra clients) and judge every selected check.

    Raises ValueError for an ``only``/``skip`` glob that matches no check; network trouble never
    raises (it is in ``report.capture.end_reason`` and the verdicts).
    """
    specs = checks.select(only, skip)
    needs = set().union(*(s.needs for s in specs)) if specs else set()
    warm_up()
    started = datetime.now(UTC)
    t0 = time.monotonic()

    seen = [0, 0]  # events, bytes of the main capture so far

    def on_chunk(cap: Capture) -> None:
        seen[:] = [len(cap.events), cap.decoded_bytes]
        if progress is not None:
            progress(Progress(seen[0], seen[1], time.monotonic() - t0, "capturing"))

    async def tick() -> None:
        """Progress while nothing arrives, too: a silent server should not look like a hung suite."""
        while progress is not None:
            await asyncio.sleep(0.25)
            progress(Progress(seen[0], seen[1], time.monotonic() - t0, "capturing"))

    main_task = asyncio.ensure_future(
        capture(
            profile.capture_request(target),
            profile.limits,
            is_last=profile.is_last,
            progress=on_chunk,
        )
    )
    concurrent_task = _concurrent(target, profile) if "concurrent" in needs else None
    disconnect_task = _disconnect(target, profile, t0) if "disconnect" in needs else None
    # reconnect.*: its own job (it also waits for the main capture, for the after-end reconnect)
    # (EventSource only sends GET: a POST stream's clients do not reconnect by themselves)
    reconnects = "reconnect" in needs and profile.method.upper() == "GET"
    reconnect_task = _reconnect(target, profile, main_task, t0) if reconnects else None
    ticker = asyncio.ensure_future(tick())
    try:
        with LoopLag() as lag:
            main, concurrent_caps, disconnect_run, reconnect = await asyncio.gather(
                main_task,
                concurrent_task or _none(),
                disconnect_task or _none(),
                reconnect_task or _none(),
            )
    finally:
        ticker.cancel()
    if progress is not None:
        progress(Progress(len(main.events), main.decoded_bytes, time.monotonic() - t0, "judging"))
    ctx = CheckContext(
        main,
        profile,
        concurrent_caps,
        disconnect_run,
        reconnect=reconnect,
        suite_stalls=tuple(lag.stalls),
    )
    results = judge(ctx, specs)
    extra: dict[str, list[Capture]] = {}
    if concurrent_caps is not None:
        extra["concurrent"] = concurrent_caps
    if disconnect_run is not None:
        extra["disconnect"] = [*disconnect_run.aborted, *filter(None, [disconnect_run.follow_up])]
    if reconnect is not None:
        extra["reconnect"] = reconnect.captures()
    return Report(
        target=target,
        profile=profile,
        started=started,
        duration_s=time.monotonic() - t0,
        results=results,
        capture=main,
        extra_captures=extra,
    )


async def _none() -> None:
    return None


def run_suite_sync(
    target: str,
    profile: Profile,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    progress: ProgressFn | None = None,
) -> Report:
    """:func:`run_suite` for callers without an event loop (CLI, pytest plugin, scripts)."""
    return asyncio.run(run_suite(target, profile, only=only, skip=skip, progress=progress))
