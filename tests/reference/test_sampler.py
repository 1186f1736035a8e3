"""The shared sampler: sample text and arithmetic, bounded inboxes, one read per interval, phases."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime

import pytest

from reference.sampler import (
    BUCKETS,
    Sampler,
    Subscription,
    bucket_count,
    encode_data,
    format_sample,
)
from tests.reference.helpers import FIXED_NOW, FakeMemory, MemorySource

GIB = 1024**3


@pytest.mark.parametrize(
    ("total", "percent", "expected"),
    [
        # The demo's own line: 23.54 GB total at 1.9% -> 0.45 GB used.
        (25_275_875_328, 1.9, "RAM usage: 1.9% (0.45GB / 23.54GB)"),
        (8 * GIB, 42.5, "RAM usage: 42.5% (3.40GB / 8.00GB)"),
        (16 * GIB, 100.0, "RAM usage: 100.0% (16.00GB / 16.00GB)"),
        (16 * GIB, 0.0, "RAM usage: 0.0% (0.00GB / 16.00GB)"),
        # used = total * percent / 100, rounded to 2 decimals: 3 GiB * 33.3% = 0.999 -> 1.00.
        (3 * GIB, 33.3, "RAM usage: 33.3% (1.00GB / 3.00GB)"),
    ],
)
def test_sample_text_and_arithmetic(total: int, percent: float, expected: str) -> None:
    text = format_sample(datetime(2026, 11, 25, 17, 29, 55), FakeMemory(total, percent))
    assert text == "2026-11-25 17:29:55 - " + expected


def test_percent_is_printed_as_psutil_gives_it() -> None:
    assert "RAM usage: 7% (" in format_sample(FIXED_NOW, FakeMemory(GIB, 7))
    assert "RAM usage: 12.3% (" in format_sample(FIXED_NOW, FakeMemory(GIB, 12.3))


def test_encode_data_is_one_json_line_and_a_blank_line() -> None:
    assert encode_data('a "quoted"\nline é') == b'data: "a \\"quoted\\"\\nline \\u00e9"\n\n'


async def test_subscription_is_bounded_and_closes_as_slow() -> None:
    subscription = Subscription(maxsize=2)
    assert subscription.push(b"1")
    assert subscription.push(b"2")
    assert not subscription.push(b"3")
    assert subscription.reason == "slow"
    assert await subscription.get() is None  # dropped: what was buffered is freed too


async def test_subscription_close_wakes_a_waiting_reader() -> None:
    subscription = Subscription(maxsize=2)
    reader = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    subscription.close("disconnected")
    subscription.close("shutdown")  # first reason wins
    assert await asyncio.wait_for(reader, 1) is None
    assert subscription.reason == "disconnected"


class FakeTimer:
    """The sampler's monotonic clock, moved by hand so phases are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def serve_interval(sampler: Sampler, cycle: int) -> None:
    """Every pass of interval ``cycle``, at its own time (what the ticker does over one interval)."""
    for index in range(cycle * sampler.buckets, (cycle + 1) * sampler.buckets):
        sampler.serve(index, (index + 1) * sampler.width)


def test_bucket_count_is_bounded_by_the_narrowest_slice() -> None:
    assert bucket_count(1.0) == BUCKETS
    assert bucket_count(0.02) == 4  # 5 ms slices: a tiny interval does not make the ticker spin
    assert bucket_count(0.001) == 1
    assert bucket_count(3600.0) == BUCKETS


async def test_one_read_per_interval_shared_by_every_subscriber() -> None:
    memory = MemorySource()
    sampler = Sampler(60.0, read_memory=memory, clock=lambda: FIXED_NOW, timer=FakeTimer())
    subscriptions = [sampler.subscribe(4) for _ in range(1000)]
    serve_interval(sampler, 0)
    # Subscribed less than one interval ago: nobody is fed yet, so nothing was read.
    assert memory.calls == 0
    assert all(len(s) == 0 for s in subscriptions)
    serve_interval(sampler, 1)
    assert memory.calls == 1
    firsts = [await s.get() for s in subscriptions]
    assert all(item is firsts[0] for item in firsts)  # the very same bytes object
    assert sampler.ticks == 1
    for subscription in subscriptions:
        sampler.unsubscribe(subscription)


async def test_streams_started_at_different_times_get_samples_at_their_own_phase() -> None:
    timer = FakeTimer()
    memory = MemorySource()
    sampler = Sampler(1.0, read_memory=memory, clock=lambda: FIXED_NOW, timer=timer)
    starts = [0.0, 0.25, 0.5, 0.75]
    groups: list[list[Subscription]] = []
    for start in starts:
        timer.now = start
        groups.append([sampler.subscribe(8) for _ in range(250)])
    received: list[list[float]] = [[] for _ in starts]
    served_per_pass: list[int] = []
    for index in range(4 * sampler.buckets):
        now = (index + 1) * sampler.width
        sampler.serve(index, now)
        served = 0
        for group, times in zip(groups, received, strict=True):
            got = [len(s) for s in group]
            assert len(set(got)) == 1, "a group subscribed at one instant is served in one pass"
            if got[0] > len(times):
                times.append(now)
                served += len(group)
        served_per_pass.append(served)
    for start, times in zip(starts, received, strict=True):
        assert len(times) == 3  # intervals 1, 2 and 3 after the start (the 4th is still ahead)
        # First sample one interval after the start, at most one slice later ...
        assert start + 1.0 <= times[0] <= start + 1.0 + sampler.width + 1e-9
        # ... then a steady cadence of exactly one interval.
        assert [round(b - a, 9) for a, b in itertools.pairwise(times)] == [1.0, 1.0]
    # The fan-out is spread: no pass sends more than one group's samples (250, not 1000) ...
    assert max(served_per_pass) == 250
    # ... and the four phases are four distinct passes per interval.
    assert len({round(t[0] % 1.0, 9) for t in received}) == 4
    # One psutil call per interval whatever the number of streams (intervals 1, 2, 3 fed someone).
    assert memory.calls == 3 == sampler.ticks
    for group in groups:
        for subscription in group:
            sampler.unsubscribe(subscription)
    assert not sampler.running


async def test_the_send_watchdog_runs_in_the_stream_s_own_pass() -> None:
    timer = FakeTimer()
    sampler = Sampler(
        1.0, send_timeout=0.5, read_memory=MemorySource(), clock=lambda: FIXED_NOW, timer=timer
    )
    stuck = sampler.subscribe(4)
    timer.now = 0.5
    other = sampler.subscribe(4)
    stuck.sending_since = 0.0
    other.sending_since = 0.0
    sampler.serve(stuck.first_pass, 2.0)
    assert (stuck.reason, other.reason) == ("send_timeout", None)
    assert sampler.dropped_send_timeout == 1
    assert sampler.subscribers == 1
    sampler.serve(other.first_pass, 2.0)
    assert other.reason == "send_timeout"
    assert sampler.subscribers == 0
    await asyncio.sleep(0.05)  # the ticker's next pass finds nobody left and ends itself
    assert not sampler.running
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "reference-sampler"]


async def test_ticker_runs_only_while_someone_listens() -> None:
    memory = MemorySource()
    sampler = Sampler(0.01, read_memory=memory, clock=lambda: FIXED_NOW)
    assert not sampler.running
    subscription = sampler.subscribe(4)
    assert sampler.running
    assert await asyncio.wait_for(subscription.get(), 2) == encode_data(
        "2026-01-02 03:04:05 - RAM usage: 42.5% (3.40GB / 8.00GB)"
    )
    sampler.unsubscribe(subscription)
    assert not sampler.running
    await asyncio.sleep(0.05)
    calls = memory.calls
    await asyncio.sleep(0.05)
    assert memory.calls == calls
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "reference-sampler"]


async def test_a_full_inbox_is_dropped_without_disturbing_the_others() -> None:
    memory = MemorySource()
    sampler = Sampler(60.0, read_memory=memory, clock=lambda: FIXED_NOW, timer=FakeTimer())
    stalled = sampler.subscribe(2)
    healthy = sampler.subscribe(2)
    for cycle in range(1, 6):
        serve_interval(sampler, cycle)
        assert await healthy.get() is not None
    assert stalled.reason == "slow"
    assert sampler.dropped_slow == 1
    assert sampler.subscribers == 1
    assert healthy.reason is None
    assert memory.calls == 5
    sampler.unsubscribe(stalled)
    sampler.unsubscribe(healthy)
    await sampler.stop()


async def test_a_failing_read_skips_the_interval_and_keeps_the_ticker_alive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = iter([OSError("no /proc"), OSError("still none")])

    def flaky() -> FakeMemory:
        error = next(failures, None)
        if error is not None:
            raise error
        return FakeMemory(GIB, 50.0)

    sampler = Sampler(0.01, read_memory=flaky, clock=lambda: FIXED_NOW)
    subscription = sampler.subscribe(4)
    item = await asyncio.wait_for(subscription.get(), 5)
    assert item is not None
    assert b"RAM usage: 50.0% (0.50GB / 1.00GB)" in item
    assert sampler.sample_errors == 2
    # One read per interval even while reads fail (retried next interval, not on every pass).
    assert sampler.ticks == 3
    assert caplog.text.count("sampling RAM failed") == 1
    sampler.unsubscribe(subscription)


async def test_every_pass_serves_its_streams_in_arrival_order() -> None:
    sampler = Sampler(60.0, read_memory=MemorySource(), clock=lambda: FIXED_NOW, timer=FakeTimer())
    subscriptions = [sampler.subscribe(4) for _ in range(300)]
    woken: list[int] = []

    async def wait(i: int, subscription: Subscription) -> None:
        await subscription.get()
        woken.append(i)

    for cycle in range(1, 4):
        woken.clear()
        waiters = [asyncio.create_task(wait(i, s)) for i, s in enumerate(subscriptions)]
        await asyncio.sleep(0)  # every waiter is parked in get()
        serve_interval(sampler, cycle)
        await asyncio.gather(*waiters)
        assert woken == list(range(300))
    for subscription in subscriptions:
        sampler.unsubscribe(subscription)
