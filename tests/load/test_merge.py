"""--processes N: the split of a run over workers and the merge of what they measured."""

from __future__ import annotations

import json
import math
import random

import pytest

from conformance.load.merge import (
    merge_samples,
    merge_steps,
    share_config,
    split_count,
    step_from_wire,
    step_to_wire,
    weighted_quantile,
)
from conformance.load.results import OPEN, StepResult
from conformance.load.runner import LoadConfig
from conformance.load.stats import Reservoir, Sample, Summary, percentile


def test_split_count_gives_shares_that_differ_by_at_most_one() -> None:
    assert split_count(10, 3) == [4, 3, 3]
    assert split_count(1, 2) == [1, 0]
    assert sum(split_count(20_000, 2)) == 20_000


def test_share_config_splits_streams_rates_ramp_and_cap() -> None:
    config = LoadConfig(url="http://x/", steps=[5, 100], ramp=1000.0, server_pid=7, max_open=9)
    first, second = share_config(config, 0, 2), share_config(config, 1, 2)
    assert (first.steps, second.steps) == ([3, 50], [2, 50])
    assert first.ramp == second.ramp == 500.0
    assert first.max_open == second.max_open == 5
    assert (first.server_pid, second.server_pid) == (7, None)
    assert first.keep_going
    assert second.keep_going
    open_loop = share_config(LoadConfig(url="http://x/", steps=[1], arrival_rates=[10.0]), 1, 4)
    assert open_loop.arrival_rates == [2.5]


def test_weighted_quantile_with_unit_weights_is_the_plain_percentile() -> None:
    rng = random.Random(3)
    values = [rng.random() for _ in range(501)]
    ordered = sorted(values)
    for q in (0, 1, 50, 90, 99, 100):
        got = weighted_quantile([(v, 1.0) for v in values], q)
        assert got == pytest.approx(percentile(ordered, q))
    assert math.isnan(weighted_quantile([], 50))
    with pytest.raises(ValueError, match="out of range"):
        weighted_quantile([(1.0, 1.0)], 101)


def test_exact_samples_merge_to_the_summary_of_the_union() -> None:
    rng = random.Random(5)
    a = [rng.expovariate(10) for _ in range(300)]
    b = [rng.expovariate(2) for _ in range(700)]
    merged = merge_samples([Sample(a, len(a), max(a)), Sample(b, len(b), max(b))])
    union = Summary.of(a + b)
    assert merged.count == 1000
    assert merged.max == union.max
    for name in ("p50", "p90", "p99"):
        assert getattr(merged, name) == pytest.approx(getattr(union, name))


def test_equal_size_reservoirs_of_unequal_populations_are_weighted_by_their_counts() -> None:
    # worker A saw 1,000,000 fast gaps (10 ms), worker B 1,000 slow ones (500 ms); both keep
    # 1,000 values. Concatenated, B would be half the sample: p50 and p99 at 500 ms. Weighted,
    # B is 0.1 % of the population: p99 stays at 10 ms.
    fast, slow = Reservoir(1000), Reservoir(1000)
    for _ in range(1_000_000 // 1000):
        fast.extend([0.010] * 1000)
    slow.extend([0.500] * 1000)
    a, b = fast.sample(), slow.sample()
    assert len(a.values) == len(b.values) == 1000
    concatenated = Summary.of(a.values + b.values)
    assert concatenated.p99 == pytest.approx(0.5)  # the bias a plain concatenation has
    merged = merge_samples([a, b])
    assert merged.count == 1_001_000
    assert merged.p50 == pytest.approx(0.010)
    assert merged.p99 == pytest.approx(0.010)
    assert merged.max == pytest.approx(0.5)


def test_a_weighted_merge_tracks_the_true_quantile_of_thinned_samples() -> None:
    rng = random.Random(11)
    big = [rng.uniform(0, 1) for _ in range(200_000)]
    small = [rng.uniform(1, 2) for _ in range(2_000)]
    ra, rb = Reservoir(2000, seed=1), Reservoir(2000, seed=2)
    ra.extend(big)
    rb.extend(small)
    truth = Summary.of(big + small)
    merged = merge_samples([ra.sample(), rb.sample()])
    assert merged.p50 == pytest.approx(truth.p50, abs=0.03)
    assert merged.p90 == pytest.approx(truth.p90, abs=0.03)
    assert merged.p99 == pytest.approx(truth.p99, abs=0.03)


def _step(**kw: object) -> StepResult:
    values: dict[str, object] = {
        "target": 10,
        "ramp_s": 0.5,
        "hold_s": 2.0,
        "ramped": True,
        "open_end": 10,
        "open_min": 9,
        "connections": 10,
        "ended": 0,
        "events": 20,
        "events_per_s": 10.0,
        "ttft": Summary.of([0.01]),
        "itl": Summary.of([1.0]),
        "lateness": Summary.of([0.005]),
        "duration": Summary.of(()),
        "stream_rate": Summary.of([1.0]),
        "max_gap_s": 1.0,
        "errors": {},
        "statuses": {},
        "retry_after": {},
        "missing": 0,
        "expected_events": 20,
        "client_cpu_percent": 10.0,
        "server_cpu_percent": None,
        "server_rss_bytes": None,
        "delivered": True,
        "meets": True,
    }
    values.update(kw)
    return StepResult(**values)  # type: ignore[arg-type]


def _samples(lag: list[float], late: list[float]) -> dict[str, Sample]:
    def s(values: list[float]) -> Sample:
        return Sample(values, len(values), max(values) if values else -math.inf)

    return {
        "ttft": s([0.01]),
        "itl": s([1.0]),
        "lateness": s(late),
        "duration": s([]),
        "stream_rate": s([1.0]),
        "loop_lag": s(lag),
    }


def test_merge_steps_sums_counts_and_cpu_and_keeps_the_worst_lag() -> None:
    a = _step(
        errors={"reset": 1},
        statuses={"503": 2},
        events=30,
        events_per_s=15.0,
        client_cpu_percent=20.0,
        loop_lag=Summary.of([0.001, 0.002]),
        samples=_samples([0.001, 0.002], [0.005]),
    )
    b = _step(
        errors={"reset": 2, "refused": 1},
        statuses={"503": 1},
        open_min=7,
        loop_lag=Summary.of([0.040]),
        samples=_samples([0.040], [0.300]),
        server_cpu_percent=50.0,
    )
    merged = merge_steps([a, b], p99_limit=0.25)
    assert merged.target == 20
    assert merged.events == 50
    assert merged.events_per_s == 25.0
    assert merged.open_min == 16
    assert merged.open_end == 20
    assert merged.connections == 20
    assert merged.errors == {"reset": 3, "refused": 1}
    assert merged.statuses == {"503": 3}
    assert merged.expected_events == 40
    # CPU: (0.2 * 2 s + 0.1 * 2 s) / 2 s = 30 % of a core; events per core = 25 / 0.3
    assert merged.client_cpu_percent == pytest.approx(30.0)
    assert merged.events_per_core == pytest.approx(25.0 / 0.3)
    assert merged.worker_lag_p99 == [a.loop_lag.p99, b.loop_lag.p99]
    assert merged.lag_p99 == pytest.approx(0.040)
    assert merged.server_cpu_percent == 50.0
    assert merged.lateness.count == 2
    assert merged.lateness.max == pytest.approx(0.3)
    assert not merged.delivered
    assert not merged.meets


def test_merge_steps_judges_lateness_on_the_merged_sample() -> None:
    a = _step(samples=_samples([0.001], [0.005] * 99))
    b = _step(samples=_samples([0.001], [0.400] * 5))
    merged = merge_steps([a, b], p99_limit=0.25)
    assert merged.delivered
    assert merged.lateness.p99 > 0.25
    assert not merged.meets
    assert merge_steps([a, a], p99_limit=0.25).meets


def test_merge_steps_open_loop_sums_the_arrival_rates() -> None:
    a = _step(mode=OPEN, arrival_rate=2.5, expected_events=None, samples=_samples([0.0], []))
    merged = merge_steps([a, a], p99_limit=0.25)
    assert merged.arrival_rate == 5.0
    assert merged.label == "5/s"
    assert merged.expected_events is None
    with pytest.raises(ValueError, match="no step"):
        merge_steps([], p99_limit=0.25)


def test_a_step_survives_the_json_wire() -> None:
    step = _step(errors={"timeout:idle": 1}, samples=_samples([0.001, 0.003], [0.01]))
    text = json.dumps(step_to_wire(step))
    back = step_from_wire(json.loads(text))
    assert json.dumps(step_to_wire(back)) == text  # (NaN != NaN: compared as text)
    assert back.errors == step.errors
    assert back.lateness == step.lateness
    assert back.samples == step.samples
    empty = _step(duration=Summary.of(()))
    assert math.isnan(step_from_wire(json.loads(json.dumps(step_to_wire(empty)))).duration.p50)
