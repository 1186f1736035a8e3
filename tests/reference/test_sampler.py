"""The shared sampler: sample text and arithmetic, bounded inboxes, one read per tick."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from reference.sampler import Sampler, Subscription, encode_data, format_sample
from tests.reference.conftest import FIXED_NOW, FakeMemory, MemorySource

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


async def test_one_read_per_tick_shared_by_every_subscriber() -> None:
    memory = MemorySource()
    sampler = Sampler(0.01, read_memory=memory, clock=lambda: FIXED_NOW)
    subscriptions = [sampler.subscribe(4) for _ in range(1000)]
    sampler.tick()
    assert memory.calls == 1
    firsts = [await s.get() for s in subscriptions]
    assert all(item is firsts[0] for item in firsts)  # the very same bytes object
    for subscription in subscriptions:
        sampler.unsubscribe(subscription)


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
    sampler = Sampler(0.01, read_memory=MemorySource(), clock=lambda: FIXED_NOW)
    stalled = sampler.subscribe(2)
    healthy = sampler.subscribe(2)
    for _ in range(5):
        sampler.tick()
        assert await healthy.get() is not None
    assert stalled.reason == "slow"
    assert sampler.dropped_slow == 1
    assert sampler.subscribers == 1
    assert healthy.reason is None
    sampler.unsubscribe(stalled)
    sampler.unsubscribe(healthy)
    await sampler.stop()


async def test_a_failing_read_skips_the_tick_and_keeps_the_ticker_alive(
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
    assert sampler.ticks == 3
    assert caplog.text.count("sampling RAM failed") == 1
    sampler.unsubscribe(subscription)


async def test_every_tick_serves_streams_in_arrival_order() -> None:
    sampler = Sampler(60.0, read_memory=MemorySource(), clock=lambda: FIXED_NOW)
    subscriptions = [sampler.subscribe(4) for _ in range(300)]
    woken: list[int] = []

    async def wait(i: int, subscription: Subscription) -> None:
        await subscription.get()
        woken.append(i)

    for _ in range(3):
        woken.clear()
        waiters = [asyncio.create_task(wait(i, s)) for i, s in enumerate(subscriptions)]
        await asyncio.sleep(0)  # every waiter is parked in get()
        sampler.tick()
        await asyncio.gather(*waiters)
        assert woken == list(range(300))
    for subscription in subscriptions:
        sampler.unsubscribe(subscription)
