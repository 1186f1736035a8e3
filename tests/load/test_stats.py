"""Load-mode arithmetic: percentiles, lateness against a cadence, error kinds, verdicts."""

from __future__ import annotations

import errno
import math
import random

import pytest

from conformance.load.httpwire import HttpError
from conformance.load.results import step_verdict
from conformance.load.stats import (
    ErrorKind,
    OnlineCadence,
    Reservoir,
    Summary,
    cadence_lateness,
    classify_eof,
    classify_exception,
    classify_status,
    missing_between,
    percentile,
    retry_after_seconds,
)


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 99) == pytest.approx(3.97)
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="out of range"):
        percentile(values, 101)


def test_p99_of_a_hundred_values_is_near_the_top() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    summary = Summary.of(list(reversed(values)))
    assert summary.count == 100
    assert summary.p50 == pytest.approx(50.5)
    assert summary.max == 100.0


def test_summary_in_milliseconds_and_empty() -> None:
    assert Summary.of([0.25]).as_ms() == {
        "count": 1,
        "p50_ms": 250.0,
        "p90_ms": 250.0,
        "p99_ms": 250.0,
        "max_ms": 250.0,
    }
    assert Summary.of([]).as_ms() == {
        "count": 0,
        "p50_ms": None,
        "p90_ms": None,
        "p99_ms": None,
        "max_ms": None,
    }


def test_reservoir_is_exact_below_its_size() -> None:
    r = Reservoir(100)
    r.extend(float(v) for v in range(100, 0, -1))
    assert r.summary() == Summary.of([float(v) for v in range(1, 101)])


def test_reservoir_stays_bounded_and_keeps_count_max_and_quantiles() -> None:
    rng = random.Random(1)
    values = [rng.expovariate(10.0) for _ in range(200_000)]
    r = Reservoir(5000)
    r.extend(values)
    exact = Summary.of(values)
    got = r.summary()
    assert len(r.values) == 5000
    assert got.count == 200_000
    assert got.max == exact.max
    assert got.p50 == pytest.approx(exact.p50, rel=0.05)
    assert got.p90 == pytest.approx(exact.p90, rel=0.05)
    assert got.p99 == pytest.approx(exact.p99, rel=0.1)


def test_reservoir_sample_is_uniform_over_the_stream() -> None:
    # a rising sequence: a sample biased to early or late values would shift the median
    r = Reservoir(2000)
    r.extend(float(v) for v in range(1_000_000))
    assert r.summary().p50 == pytest.approx(500_000, rel=0.05)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5", 5.0), (" 12 ", 12.0), ("99999", 3600.0), ("", None), (None, None), ("-1", None),
     ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)  # fmt: skip
def test_retry_after(text: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(text) == seconds


def test_on_time_stream_has_zero_lateness_whatever_its_phase() -> None:
    # first event at connect, first sample 0.37 s later (a shared sampler's phase), then 1 s apart
    arrivals = [10.0, 10.37, 11.37, 12.37, 13.37]
    assert cadence_lateness(arrivals, 1.0) == pytest.approx([0, 0, 0, 0])
    assert cadence_lateness(arrivals, None) == pytest.approx([0, 0, 0, 0])


def test_one_delayed_event_is_late_by_its_delay_only() -> None:
    arrivals = [0.0, 0.5, 1.5, 2.8, 3.5, 4.5]
    assert cadence_lateness(arrivals, 1.0) == pytest.approx([0, 0, 0.3, 0, 0])


def test_drift_accumulates() -> None:
    # the server falls 0.1 s further behind on every tick
    arrivals = [0.0, 1.0, 2.1, 3.2, 4.3]
    assert cadence_lateness(arrivals, 1.0) == pytest.approx([0, 0.1, 0.2, 0.3])


def test_early_event_moves_the_anchor() -> None:
    # event 2 came 0.2 s early: the schedule is earlier than event 1 showed, so event 1 was late
    arrivals = [0.0, 1.0, 1.8, 3.0]
    assert cadence_lateness(arrivals, 1.0) == pytest.approx([0.2, 0.0, 0.2])


def test_estimated_cadence_is_the_median_gap() -> None:
    arrivals = [0.0, 0.1, 0.6, 1.1, 1.9, 2.1]  # 0.5 s cadence, one event late by 0.3 s
    assert cadence_lateness(arrivals, None) == pytest.approx([0, 0, 0, 0.3, 0])


def test_demo_style_burst_then_cadence() -> None:
    # the demo sends "Starting" and sample 1 together, then one per second
    arrivals = [5.0, 5.0, 6.0, 7.0]
    assert cadence_lateness(arrivals, 1.0) == pytest.approx([0, 0, 0])


def test_too_few_events_for_a_cadence() -> None:
    assert cadence_lateness([], 1.0) == []
    assert cadence_lateness([1.0], 1.0) == []
    assert cadence_lateness([1.0, 2.0], 1.0) == [0.0]
    assert cadence_lateness([1.0, 2.0], None) == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, None),
        (503, ErrorKind.REFUSED),
        (429, ErrorKind.REFUSED),
        (204, ErrorKind.NON_200),
        (404, ErrorKind.HTTP_4XX),
        (400, ErrorKind.HTTP_4XX),
        (500, ErrorKind.HTTP_5XX),
        (599, ErrorKind.HTTP_5XX),
        (301, ErrorKind.NON_200),
    ],
)
def test_status_classification(status: int, kind: ErrorKind | None) -> None:
    assert classify_status(status) is kind


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionRefusedError(), ErrorKind.REFUSED),
        (OSError(errno.ECONNREFUSED, "refused"), ErrorKind.REFUSED),
        (ConnectionResetError(), ErrorKind.RESET),
        (BrokenPipeError(), ErrorKind.RESET),
        (OSError(errno.ECONNRESET, "reset"), ErrorKind.RESET),
        (TimeoutError(), ErrorKind.TIMEOUT),
        (OSError(errno.ETIMEDOUT, "timed out"), ErrorKind.TIMEOUT),
        (HttpError("bad"), ErrorKind.PROTOCOL),
        (OSError(errno.ENOENT, "what"), ErrorKind.OTHER),
        (RuntimeError("odd"), ErrorKind.OTHER),
    ],
)
def test_exception_classification(exc: BaseException, kind: ErrorKind) -> None:
    assert classify_exception(exc) is kind


def test_eof_classification() -> None:
    assert classify_eof(events=22, truncated=False, min_events=1) is None
    assert classify_eof(events=0, truncated=False, min_events=1) is ErrorKind.EARLY_CLOSE
    assert classify_eof(events=5, truncated=False, min_events=22) is ErrorKind.EARLY_CLOSE
    assert classify_eof(events=22, truncated=True, min_events=1) is ErrorKind.EARLY_CLOSE
    # --endless: the stream should never end, so any close by the server is early
    assert classify_eof(events=22, truncated=False, min_events=1, endless=True) is (
        ErrorKind.EARLY_CLOSE
    )


def test_missing_ids() -> None:
    assert missing_between("3", "4") == 0
    assert missing_between("3", "7") == 3
    assert missing_between("", "0") == 0
    assert missing_between("a", "c") == 0
    assert missing_between("9", "2") == 0  # a new run restarting ids is not a gap


def _verdict(**overrides: object) -> tuple[bool, bool]:
    args: dict[str, object] = {
        "ramped": True,
        "errors": 0,
        "missing": 0,
        "events": 1000,
        "expected_events": 1000,
        "lateness_p99": 0.1,
        "p99_limit": 0.25,
    }
    args.update(overrides)
    return step_verdict(**args)  # type: ignore[arg-type]


def test_step_verdict() -> None:
    assert _verdict() == (True, True)
    assert _verdict(lateness_p99=0.26) == (True, False)
    assert _verdict(lateness_p99=math.nan) == (True, False)
    assert _verdict(errors=1) == (False, False)
    assert _verdict(missing=1) == (False, False)
    assert _verdict(ramped=False) == (False, False)
    assert _verdict(events=850) == (False, False)
    assert _verdict(events=900) == (True, True)
    assert _verdict(expected_events=None, events=1) == (True, True)
    assert _verdict(events=0, expected_events=None) == (False, False)


def test_online_cadence_matches_offline_when_the_anchor_comes_first() -> None:
    arrivals = [0.0, 0.5, 1.5, 2.8, 3.5, 4.5, 5.6, 6.7]
    online = OnlineCadence(1.0)
    got = [online.arrive(t) for t in arrivals]
    assert got[0] is None
    assert got[1:] == pytest.approx(cadence_lateness(arrivals, 1.0))


def test_online_cadence_only_judges_against_the_past() -> None:
    online = OnlineCadence(1.0)
    got = [online.arrive(t) for t in [0.0, 1.0, 1.8, 3.0]]
    assert got[1:] == pytest.approx([0.0, 0.0, 0.2])  # offline says [0.2, 0, 0.2]


def _old_extend(r: Reservoir, values: list[float]) -> None:
    """The value-by-value ``extend`` before the slice-wise one (the cost baseline)."""
    for value in values:
        if len(r.values) < r.size or r._skip == 0:
            r.add(value)
            continue
        r.count += 1
        r._skip -= 1
        if value > r.max:
            r.max = value


@pytest.mark.parametrize("size", [1, 7, 100, 5000])
def test_reservoir_extend_keeps_exactly_what_add_keeps(size: int) -> None:
    rng = random.Random(size)
    batches = [[rng.random() for _ in range(rng.randrange(0, 3000))] for _ in range(60)]
    one, many = Reservoir(size), Reservoir(size)
    for batch in batches:
        for value in batch:
            one.add(value)
        many.extend(iter(batch) if len(batch) % 2 else batch)
    assert (many.values, many.count, many.max, many._skip) == (
        one.values,
        one.count,
        one.max,
        one._skip,
    )


@pytest.mark.slow
def test_reservoir_extend_costs_less_than_value_by_value() -> None:
    """CPU time, side by side in one process, median of three: the slice-wise extend skips
    whole runs of values with one ``max`` (past ~10x the size, most values are skipped)."""
    import time

    values = [random.random() for _ in range(1_500_000)]
    new_times, old_times = [], []
    for _ in range(3):
        start = time.process_time()
        Reservoir(20_000).extend(values)
        new_times.append(time.process_time() - start)
        start = time.process_time()
        _old_extend(Reservoir(20_000), values)
        old_times.append(time.process_time() - start)
    assert sorted(new_times)[1] < sorted(old_times)[1] * 0.85
