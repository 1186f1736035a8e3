"""What a load run reports: one :class:`StepResult` per step, the :class:`LoadReport`, and the
verdict rule (:func:`step_verdict`). Plain data, so the table, the JSON and the plot share it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.load.stats import Sample, Summary

CLOSED = "closed"  # --streams / --steps: a fixed population, ended streams replaced at once
OPEN = "open"  # --arrival-rate: new streams at a fixed rate whatever the answers


@dataclass
class StepResult:
    target: int  # streams held (closed loop) or streams started (open loop)
    ramp_s: float
    hold_s: float
    ramped: bool  # closed: the open count reached the target; open: every arrival was started
    open_end: int
    open_min: int
    connections: int  # connections answered with 200 during the step
    ended: int  # streams the server ended normally (closed loop: then replaced)
    events: int  # events received during the hold
    events_per_s: float  # in total, during the hold
    ttft: Summary  # time to first event, connections whose first event came during the step
    itl: Summary  # inter-event gap of one stream, events received during the hold
    lateness: Summary  # events received during the hold, against the cadence
    duration: Summary  # connect to end of the streams the server ended normally
    stream_rate: Summary  # events per second of one stream (values are events/s, not seconds)
    max_gap_s: float  # longest time between two consecutive events of one stream (hold)
    errors: dict[str, int]
    statuses: dict[str, int]
    retry_after: dict[str, int]  # Retry-After values of 429/503 answers (seconds as text)
    missing: int  # events skipped according to consecutive integer ids
    expected_events: int | None
    client_cpu_percent: float
    server_cpu_percent: float | None
    server_rss_bytes: int | None
    delivered: bool
    meets: bool
    mode: str = CLOSED
    arrival_rate: float | None = None  # open loop: streams started per second
    loop_lag: Summary = field(default_factory=lambda: Summary.of(()))  # the generator's own
    # --processes N: each worker's own loop-lag p99 (seconds; empty for one process)
    worker_lag_p99: list[float] = field(default_factory=list)
    # the first stream's detail of each error kind ("connect: SSLError: ...", the cause in words)
    error_details: dict[str, str] = field(default_factory=dict)
    # the bounded samples behind the quantiles, by figure (what a worker sends for the merge)
    samples: dict[str, Sample] = field(default_factory=dict, repr=False, compare=False)

    @property
    def lag_p99(self) -> float:
        """The generator's loop-lag p99: with several processes, the worst process's (each
        process's timestamps carry its own lag, so the worst one bounds every figure)."""
        return max(self.worker_lag_p99) if self.worker_lag_p99 else self.loop_lag.p99

    @property
    def events_per_core(self) -> float:
        """Events received per second of the generator's CPU time: what one core parses."""
        if self.client_cpu_percent <= 0:
            return math.nan
        return self.events_per_s / (self.client_cpu_percent / 100.0)

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    @property
    def label(self) -> str:
        """The step as the table shows it: the stream count, or the arrival rate."""
        if self.mode == OPEN and self.arrival_rate is not None:
            return f"{self.arrival_rate:g}/s"
        return str(self.target)

    def as_dict(self) -> dict[str, Any]:
        rate = self.stream_rate
        return {
            "mode": self.mode,
            "target": self.target,
            "arrival_rate": self.arrival_rate,
            "ramp_s": round(self.ramp_s, 3),
            "hold_s": round(self.hold_s, 3),
            "ramped": self.ramped,
            "open_end": self.open_end,
            "open_min": self.open_min,
            "connections": self.connections,
            "ended": self.ended,
            "events": self.events,
            "events_per_s": round(self.events_per_s, 1),
            "ttft": self.ttft.as_ms(),
            "itl": self.itl.as_ms(),
            "lateness": self.lateness.as_ms(),
            "duration": self.duration.as_ms(),
            "stream_events_per_s": {
                "count": rate.count,
                "p50": _round(rate.p50),
                "p90": _round(rate.p90),
                "p99": _round(rate.p99),
                "max": _round(rate.max),
            },
            "max_gap_ms": round(self.max_gap_s * 1000.0, 3),
            "loop_lag": self.loop_lag.as_ms(),
            "loop_lag_p99_ms_worst": _ms(self.lag_p99),
            "loop_lag_p99_ms_per_process": [_ms(v) for v in self.worker_lag_p99],
            "events_per_core_s": _round(self.events_per_core),
            "errors": self.errors,
            "error_details": self.error_details,
            "statuses": self.statuses,
            "retry_after": self.retry_after,
            "missing": self.missing,
            "expected_events": self.expected_events,
            "client_cpu_percent": round(self.client_cpu_percent, 1),
            "server_cpu_percent": None
            if self.server_cpu_percent is None
            else round(self.server_cpu_percent, 1),
            "server_rss_bytes": self.server_rss_bytes,
            "delivered": self.delivered,
            "meets": self.meets,
        }


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value * 1000.0, 3)


def first_details(steps: Sequence[StepResult]) -> dict[str, str]:
    """Each error kind's detail from the first of ``steps`` that has one (workers of one step,
    or the steps of a run). Never raises."""
    return {kind: text for step in reversed(steps) for kind, text in step.error_details.items()}


@dataclass
class LoadReport:
    url: str
    interval: float | None
    p99_limit: float
    steps: list[StepResult]
    idle_server_rss_bytes: int | None = None
    ttft_limit: float | None = None
    mode: str = CLOSED
    sample_size: int = 0  # per figure and step: quantiles from at most this many values
    processes: int = 1  # --processes: worker processes whose figures were merged

    @property
    def largest_meeting(self) -> int:
        """Largest N that met the criterion, 0 when none did."""
        return max((s.target for s in self.steps if s.meets), default=0)

    @property
    def largest_rate_meeting(self) -> float:
        """Open loop: the largest arrival rate that met the criterion, 0 when none did."""
        return max((s.arrival_rate or 0.0 for s in self.steps if s.meets), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "mode": self.mode,
            "interval": self.interval,
            "p99_limit_ms": self.p99_limit * 1000.0,
            "ttft_limit_ms": None if self.ttft_limit is None else self.ttft_limit * 1000.0,
            "largest_meeting": self.largest_meeting,
            "largest_rate_meeting": self.largest_rate_meeting,
            "sample_size": self.sample_size,
            "processes": self.processes,
            "idle_server_rss_bytes": self.idle_server_rss_bytes,
            "steps": [s.as_dict() for s in self.steps],
        }


def step_verdict(
    *,
    ramped: bool,
    errors: int,
    missing: int,
    events: int,
    expected_events: int | None,
    lateness_p99: float,
    p99_limit: float,
    ttft_p99: float = math.nan,
    ttft_limit: float | None = None,
) -> tuple[bool, bool]:
    """(delivered, meets): the ramp reached the target, no stream failed, no event went missing,
    the event count is at least 90 % of what the interval promises; meets adds p99 lateness <=
    limit (when there is a lateness figure: an open-loop step of short streams may have none)
    and, with ``ttft_limit``, TTFT p99 <= it. (Streams the server ends normally are replaced, so
    the open count dips briefly between an end and its replacement: that is not a failure, an
    error would be.) Never raises."""
    delivered = (
        ramped
        and errors == 0
        and missing == 0
        and events > 0
        and (expected_events is None or events >= 0.9 * expected_events)
    )
    late_ok = not math.isnan(lateness_p99) and lateness_p99 <= p99_limit
    if ttft_limit is not None:
        ttft_ok = not math.isnan(ttft_p99) and ttft_p99 <= ttft_limit
        late_ok = ttft_ok and (math.isnan(lateness_p99) or lateness_p99 <= p99_limit)
    return delivered, delivered and late_ok
