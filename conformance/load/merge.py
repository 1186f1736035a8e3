"""``--processes N``: splitting a load run over worker processes and merging what they measured.

Pure functions (no process, no socket), so each rule is tested with plain numbers.

Quantiles. Each worker keeps a bounded uniform sample of every figure (:class:`Reservoir`): at
most ``size`` values standing for ``count`` values. Two workers' samples of equal size but
unequal populations (one saw 1,000,000 gaps, the other 1,000) cannot simply be concatenated:
each kept value of the first stands for 1,000,000 / size values, of the second for 1,000 / size.
:func:`merge_samples` weighs every kept value by ``count / len(values)`` and takes the weighted
quantile, which is the plain linear-interpolated quantile of the union when no sample was
thinned (every weight 1).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.load.results import OPEN, StepResult, first_details, step_verdict
from conformance.load.runner import LoadConfig
from conformance.load.stats import Sample, Summary

SUMMARY_FIELDS = ("ttft", "itl", "lateness", "duration", "stream_rate", "loop_lag")


def split_count(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` shares that differ by at most one, larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def share_config(config: LoadConfig, index: int, parts: int) -> LoadConfig:
    """Worker ``index``'s part of ``config``: its share of every step's streams (closed loop)
    or of every arrival rate (open loop), of the ramp and of the open-stream cap. Only worker 0
    probes the server (``--server-pid``), so its CPU is not counted ``parts`` times. The worker
    never stops on its own: its parent judges the merged step (``keep_going``)."""
    return dataclasses.replace(
        config,
        steps=[split_count(n, parts)[index] for n in config.steps],
        arrival_rates=[rate / parts for rate in config.arrival_rates],
        ramp=config.ramp / parts,
        max_open=max(1, math.ceil(config.max_open / parts)),
        server_pid=config.server_pid if index == 0 else None,
        keep_going=True,
    )


def weighted_quantile(points: Sequence[tuple[float, float]], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``(value, weight)`` points, linear between values.

    Value ``j`` (sorted, cumulative weight ``C_j``) sits at ``(C_j - w_j/2 - w_0/2) /
    (W - w_0/2 - w_last/2)``; with every weight 1 that is ``j / (n - 1)``, numpy's default rule
    (:func:`conformance.load.stats.percentile`). NaN for no points; raises ValueError for q out
    of range."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile out of range: {q}")
    ordered = sorted(p for p in points if p[1] > 0)
    if not ordered:
        return math.nan
    if len(ordered) == 1:
        return ordered[0][0]
    first, last = ordered[0][1], ordered[-1][1]
    span = sum(w for _, w in ordered) - first / 2 - last / 2
    target = q / 100.0 * span
    cumulative = 0.0
    prev_pos, prev_value = 0.0, ordered[0][0]
    for value, weight in ordered:
        pos = cumulative + weight / 2 - first / 2
        cumulative += weight
        if pos >= target:
            if pos <= prev_pos:
                return value
            frac = (target - prev_pos) / (pos - prev_pos)
            return prev_value + (value - prev_value) * frac
        prev_pos, prev_value = pos, value
    return ordered[-1][0]


def merge_samples(samples: Sequence[Sample]) -> Summary:
    """One summary of several workers' samples: count summed, max the largest, quantiles
    weighted by how many values each kept value stands for. Never raises."""
    points: list[tuple[float, float]] = []
    count = 0
    top = -math.inf
    for sample in samples:
        count += sample.count
        if sample.count:
            top = max(top, sample.max)
        if sample.values:
            weight = sample.count / len(sample.values)
            points.extend((value, weight) for value in sample.values)
    if not count:
        return Summary.of(())
    return Summary(
        count,
        weighted_quantile(points, 50),
        weighted_quantile(points, 99),
        top,
        weighted_quantile(points, 90),
    )


def _summed(maps: Sequence[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for mapping in maps:
        total.update(mapping)
    return dict(total)


def merge_steps(
    steps: Sequence[StepResult],
    *,
    p99_limit: float,
    ttft_limit: float | None = None,
) -> StepResult:
    """One step out of the same step of every worker: counts, errors and events per second
    summed; CPU the sum of the workers' CPU time over the mean hold (so events per core is
    events over total CPU seconds); quantiles from the weighted samples; the loop lag kept per
    worker (the worst p99 is the figure); the verdict taken again on the merged figures (the
    ``open min`` is the sum of each worker's lowest, a lower bound). Raises ValueError for no
    steps."""
    if not steps:
        raise ValueError("no step to merge")
    hold = sum(s.hold_s for s in steps) / len(steps)
    cpu_seconds = sum(s.client_cpu_percent / 100.0 * s.hold_s for s in steps)
    summaries: dict[str, Summary] = {}
    for name in SUMMARY_FIELDS:
        if all(name in s.samples for s in steps):
            summaries[name] = merge_samples([s.samples[name] for s in steps])
        else:  # no samples (an older worker): the counts and maxima are still exact
            parts: list[Summary] = [getattr(s, name) for s in steps]
            summaries[name] = _fallback(parts)
    expected = [s.expected_events for s in steps]
    errors = _summed([s.errors for s in steps])
    missing = sum(s.missing for s in steps)
    events = sum(s.events for s in steps)
    ramped = all(s.ramped for s in steps)
    expected_events = None if any(e is None for e in expected) else sum(e or 0 for e in expected)
    lateness, ttft = summaries["lateness"], summaries["ttft"]
    delivered, meets = step_verdict(
        ramped=ramped,
        errors=sum(errors.values()),
        missing=missing,
        events=events,
        expected_events=expected_events,
        lateness_p99=lateness.p99,
        p99_limit=p99_limit,
        ttft_p99=ttft.p99,
        ttft_limit=ttft_limit,
    )
    mode = steps[0].mode
    if mode == OPEN and ttft_limit is None:  # the runner's open-loop rule, on merged figures
        meets = delivered and (math.isnan(lateness.p99) or lateness.p99 <= p99_limit)
    rates = [s.arrival_rate for s in steps]
    server = [s for s in steps if s.server_cpu_percent is not None]
    return StepResult(
        target=sum(s.target for s in steps),
        ramp_s=max(s.ramp_s for s in steps),
        hold_s=hold,
        ramped=ramped,
        open_end=sum(s.open_end for s in steps),
        open_min=sum(s.open_min for s in steps),
        connections=sum(s.connections for s in steps),
        ended=sum(s.ended for s in steps),
        events=events,
        events_per_s=sum(s.events_per_s for s in steps),
        ttft=ttft,
        itl=summaries["itl"],
        lateness=lateness,
        duration=summaries["duration"],
        stream_rate=summaries["stream_rate"],
        loop_lag=summaries["loop_lag"],
        worker_lag_p99=[s.loop_lag.p99 for s in steps],
        max_gap_s=max(s.max_gap_s for s in steps),
        errors=errors,
        error_details=first_details(steps),
        statuses=_summed([s.statuses for s in steps]),
        retry_after=_summed([s.retry_after for s in steps]),
        missing=missing,
        expected_events=expected_events,
        client_cpu_percent=cpu_seconds / hold * 100.0 if hold > 0 else 0.0,
        server_cpu_percent=server[0].server_cpu_percent if server else None,
        server_rss_bytes=server[0].server_rss_bytes if server else None,
        delivered=delivered,
        meets=meets,
        mode=mode,
        arrival_rate=None if any(r is None for r in rates) else sum(r or 0.0 for r in rates),
    )


def _fallback(parts: Sequence[Summary]) -> Summary:
    """Without samples: exact count and max; each quantile the count-weighted mean (a guess,
    used only when a worker sent no samples)."""
    count = sum(p.count for p in parts)
    if not count:
        return Summary.of(())

    def mean(name: str) -> float:
        got = [(getattr(p, name), p.count) for p in parts if p.count]
        got = [(v, c) for v, c in got if not math.isnan(v)]
        total = sum(c for _, c in got)
        return sum(v * c for v, c in got) / total if total else math.nan

    top = max((p.max for p in parts if p.count and not math.isnan(p.max)), default=math.nan)
    return Summary(count, mean("p50"), mean("p99"), top, mean("p90"))


# the wire: one JSON object per step, from a worker to its parent -------------------------------


def step_to_wire(step: StepResult) -> dict[str, Any]:
    """Everything of ``step`` as JSON-able data (NaN kept as NaN: Python's json reads it)."""
    data = {f.name: getattr(step, f.name) for f in dataclasses.fields(step)}
    for name in SUMMARY_FIELDS:
        data[name] = dataclasses.asdict(data[name])
    data["samples"] = {
        name: {"values": s.values, "count": s.count, "max": s.max}
        for name, s in step.samples.items()
    }
    return data


def step_from_wire(data: Mapping[str, Any]) -> StepResult:
    """The inverse of :func:`step_to_wire`; raises KeyError/TypeError/ValueError for data that
    is not a step."""
    values = dict(data)
    for name in SUMMARY_FIELDS:
        values[name] = Summary(**values[name])
    values["samples"] = {
        name: Sample([float(v) for v in s["values"]], int(s["count"]), float(s["max"]))
        for name, s in values.get("samples", {}).items()
    }
    return StepResult(**values)
