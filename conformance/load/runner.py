"""Load an SSE endpoint step by step and measure each step.

Closed loop (``--streams`` / ``--steps``): a pool of N streams ramped up, held, each stream that
ends replaced at once (one that failed after a back-off, or its 429/503 ``Retry-After``), so N
stay open for the whole step even against an endpoint whose streams end (the ram-monitor
contract ends after 22 messages). Open loop (``--arrival-rate``): R new streams per second for
``--duration`` seconds whatever the answers, nothing replaced, then the streams of the step are
given ``--timeout`` more seconds to end; an LLM gateway is loaded by arrivals, not by a fixed
population.

One event loop, one spawner task (a token bucket), one sweeper task (timeouts, and the lowest
open count seen during a hold); streams themselves have no task. Per-event figures go into
bounded reservoirs (:class:`conformance.load.stats.Reservoir`), so memory does not grow with
the event count.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from conformance.load.client import LoadStream, connect
from conformance.load.httpwire import LoadTarget, build_request, parse_target
from conformance.load.process import ServerProbe, new_event_loop, quiet_gc, raise_fd_limit
from conformance.load.results import (
    CLOSED,
    OPEN,
    LoadReport,
    StepResult,
    step_verdict,
)
from conformance.load.stats import (
    RESERVOIR_SIZE,
    ErrorKind,
    Reservoir,
    cadence_lateness,
    retry_after_seconds,
)
from conformance.reprs import run_quietly

__all__ = [
    "LoadConfig",
    "LoadReport",
    "StepResult",
    "raise_fd_limit",
    "run_load",
    "run_load_sync",
    "step_verdict",
]

DEFAULT_P99_LIMIT = 0.250  # seconds: the delivery criterion of issue 5
ERROR_BACKOFF = 1.0  # seconds before a failed stream is replaced
MAX_BACKOFF = 60.0  # a Retry-After longer than this is not waited for in full
LAG_TICK = 0.02  # seconds between two wake-ups of the lag probe
MAX_ARRIVALS_KEPT = 1024  # per connection; past it the cadence anchor restarts (bounds memory)


@dataclass
class LoadConfig:
    url: str
    steps: list[int]
    ramp: float = 1000.0  # new connections per second
    hold: float = 10.0  # seconds each step is held at its full count (open loop: of arrivals)
    interval: float | None = None  # expected cadence; None: each stream's own median gap
    timeout: float = 10.0  # connect, and silence between bytes
    head_timeout: float = 10.0  # connected to the whole response head (first_byte_timeout)
    first_event_timeout: float = 5.0  # request to the first event (first_event_timeout)
    min_events: int = 1  # a normal close with fewer events than this is an early close
    endless: bool = False  # the streams never end: every close by the server is an early close
    server_pid: int | None = None
    p99_limit: float = DEFAULT_P99_LIMIT
    keep_going: bool = False  # continue stepping after a step misses the criterion
    headers: dict[str, str] = field(default_factory=dict)  # extra headers, last word
    method: str = "GET"
    profile_headers: tuple[tuple[str, str], ...] = ()  # the profile's request headers
    body: bytes | None = None
    ssl_context: ssl.SSLContext | None = None  # https: verification settings (--cacert...)
    arrival_rates: list[float] = field(default_factory=list)  # non-empty: open loop
    ttft_limit: float | None = None  # seconds; part of the criterion when given
    max_open: int = 10_000  # open loop: arrivals beyond this many open streams are not started
    sample_size: int = RESERVOIR_SIZE

    @property
    def mode(self) -> str:
        return OPEN if self.arrival_rates else CLOSED

    def new_report(self, processes: int = 1) -> LoadReport:
        """The run's report before any step (steps are appended as they end). Never raises."""
        return LoadReport(
            self.url,
            self.interval,
            self.p99_limit,
            [],
            ttft_limit=self.ttft_limit,
            mode=self.mode,
            sample_size=self.sample_size,
            processes=processes,
        )

    def request_bytes(self, target: LoadTarget) -> bytes:
        return build_request(
            target,
            self.headers,
            method=self.method,
            headers=self.profile_headers,
            body=self.body,
        )


class StreamPool:
    """Keeps streams open against one URL and accumulates what they see."""

    def __init__(self, config: LoadConfig, target: LoadTarget) -> None:
        self.config = config
        self.target_url = target
        self.request = config.request_bytes(target)
        self.replace = config.mode == CLOSED
        self.target = 0
        self.live: set[LoadStream] = set()
        self.open = 0
        self._slots: list[float] = []  # heap of not-before times of streams to open
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = True
        self._measuring_hold = False
        self.rate = config.ramp
        self.full = asyncio.Event()  # set when the open count reaches the target
        self.drained = asyncio.Event()  # open loop: no arrival left to start, no stream open
        self.reset_counters(time.monotonic())

    # counters ------------------------------------------------------------------------------
    def reset_counters(self, now: float) -> None:
        size = self.config.sample_size
        self.step_start = now
        self.hold_start = math.inf
        self.hold_end = math.inf
        self.connections = 0
        self.started = 0
        self.capped = 0  # open loop: arrivals not started (max_open streams already open)
        self.ended = 0
        self.hold_events = 0
        self.max_gap = 0.0  # longest silence between two events of one stream during the hold
        self.missing = 0
        self.errors: Counter[str] = Counter()
        self.error_details: dict[str, str] = {}  # the first detail of each kind
        self.statuses: Counter[str] = Counter()
        self.retry_after: Counter[str] = Counter()
        self.ttft = Reservoir(size)
        self.itl = Reservoir(size)
        self.lateness = Reservoir(size)
        self.durations = Reservoir(size)
        self.stream_rates = Reservoir(size)
        self.loop_lag = Reservoir(size)  # the generator's own delay in waking up (its load)
        self.open_min = math.inf

    def begin_hold(self, now: float) -> None:
        self.loop_lag = Reservoir(self.config.sample_size)  # the hold's, not the ramp's
        self.hold_start = now
        self.hold_end = math.inf
        self.hold_events = 0
        self.max_gap = 0.0
        self.open_min = self.open
        self._measuring_hold = True

    def end_hold(self, now: float) -> None:
        self._measuring_hold = False
        self.hold_end = now

    # StreamListener ------------------------------------------------------------------------
    def stream_opened(self, stream: LoadStream) -> None:
        self.open += 1
        self.connections += 1
        if self.open >= self.target:
            self.full.set()

    def stream_events(self, stream: LoadStream, now: float, count: int, first: bool) -> None:
        if first:
            self.ttft.add(now - stream.started)
        if self.hold_start <= now <= self.hold_end:
            self.hold_events += count

    def stream_closed(self, stream: LoadStream) -> None:
        self.live.discard(stream)
        self._check_drained()
        if stream.opened_at is not None:
            self.open -= 1
            if self._measuring_hold and self.open < self.open_min:
                self.open_min = self.open
        self.missing += stream.missing
        stream.missing = 0
        self.harvest(stream, final=True)
        self._stream_rate(stream)
        if not self._running:
            return
        now = time.monotonic()
        if stream.error is None:
            self.ended += 1
            self.durations.add(now - stream.started)
            if self.replace:
                heapq.heappush(self._slots, now)
            return
        self.errors[stream.error_key] += 1
        if stream.detail:
            self.error_details.setdefault(stream.error_key, stream.detail)
        if stream.status and stream.status != 200:
            self.statuses[str(stream.status)] += 1
        backoff = ERROR_BACKOFF
        if stream.retry_after is not None:
            self.retry_after[stream.retry_after.strip()] += 1
            delay = retry_after_seconds(stream.retry_after)
            if delay is not None:
                backoff = min(max(backoff, delay), MAX_BACKOFF)
        if self.replace:
            heapq.heappush(self._slots, now + backoff)

    def _stream_rate(self, stream: LoadStream) -> None:
        """Events per second of one stream, from its first event to its latest."""
        if stream.events >= 2 and stream.first_event_at is not None and stream.arrivals:
            span = stream.arrivals[-1] - stream.first_event_at
            if span > 0:
                self.stream_rates.add((stream.events - 1) / span)

    def harvest(self, stream: LoadStream, *, final: bool = False) -> None:
        """Turn a stream's not yet reported arrivals into gap and lateness samples (those of
        the hold), then trim its arrivals (bounded per stream)."""
        arrivals = stream.arrivals
        begin = max(stream.reported, 1)
        if len(arrivals) <= begin:
            return
        cadence = self.replace or self.config.interval is not None
        # open loop without an interval: token streams keep no cadence (a final chunk and
        # [DONE] come together), so lateness would only measure that; ITL is the figure
        late = cadence_lateness(arrivals, self.config.interval) if cadence else []
        if cadence and not late and not final:
            return  # too few events to know the cadence yet: everything is reported later
        start, end = self.hold_start, self.hold_end
        held = [i for i in range(begin, len(arrivals)) if start <= arrivals[i] <= end]
        if held:
            gaps = [arrivals[i] - arrivals[i - 1] for i in held]
            self.itl.extend(gaps)
            self.max_gap = max(self.max_gap, max(gaps))
            if late:
                self.lateness.extend([late[i - 1] for i in held])
        stream.reported = len(arrivals)
        if len(arrivals) > MAX_ARRIVALS_KEPT and not final:
            stream.arrivals = arrivals[-1:]
            stream.reported = 1

    # growth --------------------------------------------------------------------------------
    def grow_to(self, n: int) -> None:
        now = time.monotonic()
        for _ in range(n - self.target):
            heapq.heappush(self._slots, now)
        self.target = max(self.target, n)

    def schedule_arrivals(self, start: float, rate: float, seconds: float) -> int:
        """Open loop: one arrival every 1/rate seconds from ``start`` for ``seconds``."""
        count = max(1, int(rate * seconds))
        for k in range(count):
            heapq.heappush(self._slots, start + k / rate)
        self.rate = max(self.config.ramp, rate * 2.0)
        return count

    async def spawner(self) -> None:
        tokens = 1.0
        last = time.monotonic()
        while self._running:
            now = time.monotonic()
            burst = max(1.0, self.rate / 50.0)
            tokens = min(burst, tokens + (now - last) * self.rate)
            last = now
            while tokens >= 1.0 and self._slots and self._slots[0] <= now:
                heapq.heappop(self._slots)
                tokens -= 1.0
                if not self.replace and len(self.live) >= self.config.max_open:
                    self.capped += 1
                    self._check_drained()
                    continue
                self._start_one(now)
            await asyncio.sleep(0.005)

    def _start_one(self, now: float) -> None:
        stream = LoadStream(
            self.request,
            self,
            started=now,
            min_events=self.config.min_events,
            endless=self.config.endless,
        )
        self.live.add(stream)
        self.started += 1
        task = asyncio.get_running_loop().create_task(
            connect(
                stream,
                self.target_url,
                connect_timeout=self.config.timeout,
                ssl_context=self.config.ssl_context,
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sweeper(self) -> None:
        while self._running:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for stream in list(self.live):
                self._check_timeouts(stream, now)
            for stream in [s for s in self.live if len(s.arrivals) > MAX_ARRIVALS_KEPT]:
                self.harvest(stream)  # keeps per-stream arrivals bounded on fast streams
            if self._measuring_hold and self.open < self.open_min:
                self.open_min = self.open

    def _check_timeouts(self, stream: LoadStream, now: float) -> None:
        """Fail a stream past one of its limits; the phase is where it waits (a silence before
        the head is a head timeout), so a head trickled a byte at a time is caught too."""
        config = self.config
        if stream.closed:
            return
        if not stream.reader.head_done:
            phase = "head"
            if stream.connected_at is not None and now - stream.connected_at > config.head_timeout:
                limit = config.head_timeout
                stream.fail(ErrorKind.TIMEOUT, f"no response head within {limit:g} s", phase)
                return
        elif not stream.events:
            phase = "first-event"
            if now - stream.started > config.first_event_timeout:
                limit = config.first_event_timeout
                stream.fail(ErrorKind.TIMEOUT, f"no event within {limit:g} s", phase)
                return
        else:
            phase = "idle"
        if stream.transport is not None and now - stream.last_activity > config.timeout:
            stream.fail(ErrorKind.TIMEOUT, f"nothing received for {config.timeout:g} s", phase)

    def _check_drained(self) -> None:
        if not self.replace and not self._slots and not self.live:
            self.drained.set()

    async def lag_probe(self) -> None:
        """Wake every LAG_TICK seconds and record how late: the generator's own lag, which
        every timestamp it takes carries too (a busy loop reads events late)."""
        while self._running:
            due = time.monotonic() + LAG_TICK
            await asyncio.sleep(LAG_TICK)
            self.loop_lag.add(max(0.0, time.monotonic() - due))

    def close_all(self) -> None:
        self._running = False
        for task in list(self._tasks):
            task.cancel()
        for stream in list(self.live):
            stream.abort()
        self.live.clear()


Gate = Callable[[StepResult], Awaitable[bool]]


def run_load_sync(
    config: LoadConfig,
    *,
    on_step: Callable[[StepResult], None] | None = None,
    gate: Gate | None = None,
) -> LoadReport:
    """:func:`run_load` in a new event loop (uvloop's when installed): what the CLI and the
    benches call. Network failures end up in the report; KeyboardInterrupt propagates."""
    return run_quietly(run_load(config, on_step=on_step, gate=gate), loop_factory=new_event_loop)


async def run_load(
    config: LoadConfig,
    *,
    on_step: Callable[[StepResult], None] | None = None,
    gate: Gate | None = None,
) -> LoadReport:
    """Run every step (stopping at the first miss unless ``keep_going``) and return the report.
    With ``gate``, the gate decides after each step whether to go on (a worker process asks its
    parent, which judges the merged step); the streams stay open while it waits.
    Network failures end up in the report's error counts; nothing is raised for them."""
    with quiet_gc():
        return await _run_load(config, on_step, gate)


async def _run_load(
    config: LoadConfig, on_step: Callable[[StepResult], None] | None, gate: Gate | None
) -> LoadReport:
    target = parse_target(config.url)
    probe = ServerProbe(config.server_pid) if config.server_pid else None
    report = config.new_report()
    if probe is not None:
        report.idle_server_rss_bytes = probe.rss()
    pool = StreamPool(config, target)
    tasks = [
        asyncio.create_task(pool.spawner()),
        asyncio.create_task(pool.sweeper()),
        asyncio.create_task(pool.lag_probe()),
    ]
    plan: list[tuple[int, float | None]] = (
        [(0, rate) for rate in config.arrival_rates]
        if config.arrival_rates
        else [(n, None) for n in config.steps]
    )
    try:
        for n, rate in plan:
            if rate is None:
                result = await _run_step(pool, n, config, probe)
            else:
                result = await _run_open_step(pool, rate, config, probe)
            report.steps.append(result)
            if on_step is not None:
                on_step(result)
            if gate is not None:
                if not await gate(result):
                    break
            elif not result.meets and not config.keep_going:
                break
    finally:
        pool.close_all()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)
    return report


async def _run_step(
    pool: StreamPool, n: int, config: LoadConfig, probe: ServerProbe | None
) -> StepResult:
    start = time.monotonic()
    pool.reset_counters(start)
    pool.grow_to(n)
    ramp_budget = max(0, n - pool.open) / config.ramp + config.timeout
    ramped = True
    if pool.open < n:
        pool.full.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pool.full.wait(), ramp_budget)
        ramped = pool.open >= n
    hold_start = time.monotonic()
    pool.begin_hold(hold_start)
    cpu0 = probe.cpu_seconds() if probe else 0.0
    client0 = time.process_time()
    await asyncio.sleep(config.hold)
    hold_end = time.monotonic()
    pool.end_hold(hold_end)
    wall = hold_end - hold_start
    expected = int(n * wall / config.interval) if config.interval else None
    return _result(
        pool,
        config,
        probe,
        target=n,
        ramp_s=hold_start - start,
        ramped=ramped,
        wall=wall,
        cpu=(cpu0, client0),
        expected=expected,
    )


async def _run_open_step(
    pool: StreamPool, rate: float, config: LoadConfig, probe: ServerProbe | None
) -> StepResult:
    """R arrivals per second for ``hold`` seconds, then up to ``timeout`` for them to end."""
    start = time.monotonic()
    pool.reset_counters(start)
    pool.begin_hold(start)
    cpu0 = probe.cpu_seconds() if probe else 0.0
    client0 = time.process_time()
    pool.drained.clear()
    count = pool.schedule_arrivals(start, rate, config.hold)
    await asyncio.sleep(config.hold)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(pool.drained.wait(), config.timeout)
    end = time.monotonic()
    pool.end_hold(end)
    result = _result(
        pool,
        config,
        probe,
        target=count,
        ramp_s=0.0,
        ramped=pool.capped == 0 and pool.started == count,
        wall=end - start,
        cpu=(cpu0, client0),
        expected=None,
    )
    for stream in list(pool.live):  # still open after the drain: not this step's business
        stream.abort()
    pool.live.clear()
    pool.open = 0
    pool._slots.clear()
    result.mode = OPEN
    result.arrival_rate = rate
    return result


def _result(
    pool: StreamPool,
    config: LoadConfig,
    probe: ServerProbe | None,
    *,
    target: int,
    ramp_s: float,
    ramped: bool,
    wall: float,
    cpu: tuple[float, float],
    expected: int | None,
) -> StepResult:
    cpu0, client0 = cpu
    client_cpu = (time.process_time() - client0) / wall * 100.0 if wall > 0 else 0.0
    server_cpu = (probe.cpu_seconds() - cpu0) / wall * 100.0 if probe and wall > 0 else None
    server_rss = probe.rss() if probe else None
    open_end = pool.open
    for stream in list(pool.live):
        pool.missing += stream.missing
        stream.missing = 0
        pool.harvest(stream)
        pool._stream_rate(stream)
    lateness = pool.lateness.summary()
    ttft = pool.ttft.summary()
    errors = dict(pool.errors)
    if pool.capped:
        errors["capped"] = pool.capped
    delivered, meets = step_verdict(
        ramped=ramped,
        errors=sum(errors.values()),
        missing=pool.missing,
        events=pool.hold_events,
        expected_events=expected,
        lateness_p99=lateness.p99,
        p99_limit=config.p99_limit,
        ttft_p99=ttft.p99,
        ttft_limit=config.ttft_limit,
    )
    if config.mode == OPEN and config.ttft_limit is None:
        # open loop without a TTFT limit: lateness only counts when the streams have a cadence
        meets = delivered and (math.isnan(lateness.p99) or lateness.p99 <= config.p99_limit)
    return StepResult(
        target=target,
        ramp_s=ramp_s,
        ramped=ramped,
        hold_s=wall,
        open_end=open_end,
        open_min=int(min(pool.open_min, open_end)),
        connections=pool.connections,
        ended=pool.ended,
        events=pool.hold_events,
        events_per_s=pool.hold_events / wall if wall > 0 else 0.0,
        ttft=ttft,
        itl=pool.itl.summary(),
        lateness=lateness,
        duration=pool.durations.summary(),
        stream_rate=pool.stream_rates.summary(),
        loop_lag=pool.loop_lag.summary(),
        max_gap_s=pool.max_gap,
        errors=errors,
        error_details=dict(pool.error_details),
        statuses=dict(pool.statuses),
        retry_after=dict(pool.retry_after),
        missing=pool.missing,
        expected_events=expected,
        client_cpu_percent=client_cpu,
        server_cpu_percent=server_cpu,
        server_rss_bytes=server_rss,
        delivered=delivered,
        meets=meets,
        samples={
            "ttft": pool.ttft.sample(),
            "itl": pool.itl.sample(),
            "lateness": pool.lateness.sample(),
            "duration": pool.durations.sample(),
            "stream_rate": pool.stream_rates.sample(),
            "loop_lag": pool.loop_lag.sample(),
        },
    )
