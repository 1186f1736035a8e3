"""One RAM sampler per process, fanned out to every open stream, each at its own phase.

The demo we replace called psutil and formatted the text once per client per second; here an
interval costs one ``virtual_memory()`` call and one formatting, whatever the number of clients,
and every stream receives the same pre-encoded ``data:`` bytes.

Why phases: pushing the sample to every stream on one shared tick makes the server send (and the
clients receive) 10,000 events in one burst each second, ~300 ms of back-to-back sends, which is
the p99 lateness of the last stream in the burst. Instead a stream's k-th sample goes out at its
own start time + k * interval: the ticker wakes ``buckets`` times per interval and serves only the
streams whose phase falls in that slice, so the send work is spread evenly over the interval and
each stream keeps a steady cadence. A stream's first sample therefore comes one interval (plus at
most one bucket width) after it subscribed. Each stream owns a :class:`Subscription`: a
small bounded buffer the sampler fills without ever awaiting, so a client that stops reading can
neither delay the others nor make the server's memory grow (its buffer fills, and it is dropped).

The ticker runs only while someone listens: it starts with the first subscription and is cancelled
with the last, so an idle server does no work and a closed stream leaves no task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import psutil

logger = logging.getLogger("reference.sampler")


class MemoryReading(Protocol):
    """The two fields of ``psutil.virtual_memory()`` the sample text uses."""

    @property
    def total(self) -> int: ...

    @property
    def percent(self) -> float: ...


def format_sample(now: datetime, memory: MemoryReading) -> str:
    """The demo's text, byte for byte: used is derived from the percent, as the demo does."""
    total_gb = memory.total / 1024**3
    used_gb = total_gb * memory.percent / 100
    return f"{now:%Y-%m-%d %H:%M:%S} - RAM usage: {memory.percent}% ({used_gb:.2f}GB / {total_gb:.2f}GB)"


def encode_data(text: str) -> bytes:
    """The ``data:`` line and the blank line that ends the event (the ``id:`` line goes before)."""
    return b"data: " + json.dumps(text).encode("ascii") + b"\n\n"


# Slices of the interval the fan-out is spread over (a pass every interval / BUCKETS seconds), and
# the narrowest slice allowed, so a tiny interval does not make the ticker spin.
BUCKETS = 50
MIN_BUCKET_WIDTH = 0.005


def bucket_count(interval: float) -> int:
    """``BUCKETS``, fewer when the interval is too short for slices of ``MIN_BUCKET_WIDTH``."""
    return max(1, min(BUCKETS, int(interval / MIN_BUCKET_WIDTH)))


# Reasons a stream is dropped by the server (as opposed to ending or being left by its client).
DROP_REASONS = frozenset({"slow", "send_timeout"})


class Subscription:
    """A stream's bounded inbox of pre-encoded ticks; closed once, with a reason.

    ``task`` and ``sending_since`` let the sampler drop a stream stuck in ``send`` (its client
    stopped reading): the check rides on the tick loop, so the hot path arms no timer per send.
    """

    __slots__ = (
        "_items",
        "_loop",
        "_maxsize",
        "_waiter",
        "bucket",
        "first_pass",
        "reason",
        "sending_since",
        "task",
    )

    def __init__(self, maxsize: int, task: asyncio.Task[Any] | None = None) -> None:
        self._items: deque[bytes] = deque()
        self._maxsize = maxsize
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self.reason: str | None = None
        self.task = task
        self.sending_since: float | None = None
        # Set by Sampler.subscribe: the slice of the interval this stream is served in, and the
        # first pass allowed to feed it (one interval after it subscribed, not the pass just after).
        self.bucket = 0
        self.first_pass = 0

    def __len__(self) -> int:
        """Samples waiting in the inbox (pushed, not yet taken by the stream)."""
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self.reason is not None

    def push(self, item: bytes) -> bool:
        """Called by the sampler; never blocks. A full inbox drops the stream ("slow")."""
        if self.reason is not None:
            return False
        if len(self._items) >= self._maxsize:
            self.drop("slow")
            return False
        self._items.append(item)
        self._wake()
        return True

    def close(self, reason: str) -> None:
        """First reason wins; wakes the stream so it stops within the current step."""
        if self.reason is None:
            self.reason = reason
            self._items.clear()
            self._wake()

    def drop(self, reason: str) -> None:
        """Close, and cancel the stream's task: it may be blocked in a send that never returns."""
        if self.reason is None:
            self.close(reason)
            if self.task is not None and self.task is not asyncio.current_task():
                self.task.cancel()

    async def get(self) -> bytes | None:
        """The next tick's data bytes, or None once closed."""
        while not self._items:
            if self.reason is not None:
                return None
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Sampler:
    """The process-wide ticker; ``read_memory``, ``clock`` and ``timer`` are injectable for tests.

    Time is cut into passes of ``width = interval / buckets`` seconds from an origin (the moment
    the ticker started): pass ``j`` runs at ``origin + (j + 1) * width`` and serves bucket
    ``j % buckets`` of interval ``j // buckets``. A stream subscribing during pass slot ``j`` goes
    into bucket ``j % buckets`` and is first served by pass ``j + buckets``: one interval later.
    """

    def __init__(
        self,
        interval: float,
        *,
        send_timeout: float = math.inf,
        read_memory: Callable[[], MemoryReading] = psutil.virtual_memory,
        clock: Callable[[], datetime] = datetime.now,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self.interval = interval
        self.send_timeout = send_timeout
        self.buckets = bucket_count(interval)
        self.width = interval / self.buckets
        self._read_memory = read_memory
        self._clock = clock
        self._timer = timer
        # Dicts, not sets: a pass serves its streams in arrival order, the same order every
        # interval, so each stream's place in its bucket (and so its cadence) stays steady.
        self._buckets: list[dict[Subscription, None]] = [{} for _ in range(self.buckets)]
        self._count = 0
        self._origin = 0.0
        self._task: asyncio.Task[None] | None = None
        # The shared sample of one interval: (interval index, bytes or None if the read failed).
        self._cached: tuple[int, bytes | None] | None = None
        # psutil reads (one per interval at most, whatever the number of streams): /healthz
        # "sampler_ticks".
        self.ticks = 0
        self.dropped_slow = 0
        self.dropped_send_timeout = 0
        self.sample_errors = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def subscribers(self) -> int:
        return self._count

    def now(self) -> float:
        return self._timer() if self._timer is not None else asyncio.get_running_loop().time()

    def pass_index(self, now: float) -> int:
        """The pass slot ``now`` falls in (pass ``j`` covers ``[origin + j*width, +width)``)."""
        return max(0, math.floor((now - self._origin) / self.width))

    def subscribe(self, maxsize: int, task: asyncio.Task[Any] | None = None) -> Subscription:
        subscription = Subscription(maxsize, task)
        now = self.now()
        if not self.running:
            self._origin = now
            self._cached = None
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="reference-sampler"
            )
        slot = self.pass_index(now)
        subscription.bucket = slot % self.buckets
        subscription.first_pass = slot + self.buckets
        self._buckets[subscription.bucket][subscription] = None
        self._count += 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._forget(subscription)
        if not self._count and self._task is not None:
            self._task.cancel()
            self._task = None

    def _forget(self, subscription: Subscription) -> None:
        if self._buckets[subscription.bucket].pop(subscription, 0) is None:
            self._count -= 1

    async def stop(self) -> None:
        """Cancel the ticker and wait for it (used at shutdown)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def sample(self) -> bytes:
        """One psutil call, one formatting, one encoding: the bytes every stream shares."""
        return encode_data(format_sample(self._clock(), self._read_memory()))

    def _sample_of(self, cycle: int) -> bytes | None:
        """The interval's shared sample, read lazily by its first pass that feeds someone.

        A failed read is not retried before the next interval: one psutil call per interval
        stays true even while psutil fails, and the streams simply wait for the next sample.
        """
        if self._cached is not None and self._cached[0] == cycle:
            return self._cached[1]
        self.ticks += 1
        data: bytes | None
        try:
            data = self.sample()
        except Exception:
            # Keep ticking (streams wait for the next good sample) rather than let the ticker die
            # and leave every stream waiting forever; say it once, with the traceback.
            self.sample_errors += 1
            if self.sample_errors == 1:
                logger.exception("sampling RAM failed; retrying every interval")
            data = None
        self._cached = (cycle, data)
        return data

    def serve(self, index: int, now: float) -> None:
        """Pass ``index``: hand this interval's sample to the streams of its bucket, no awaiting.

        Also the send watchdog: a stream of the bucket whose current send started more than
        ``send_timeout`` ago is dropped here (so the timeout is enforced with one interval's
        resolution, as every stream is checked once per interval).
        """
        bucket = self._buckets[index % self.buckets]
        if not bucket:
            return
        cycle = index // self.buckets
        deadline = now - self.send_timeout
        data: bytes | None = None
        fetched = False
        for subscription in list(bucket):
            since = subscription.sending_since
            if since is not None and since < deadline:
                subscription.drop("send_timeout")
                self._forget(subscription)
                self.dropped_send_timeout += 1
                continue
            if subscription.first_pass > index:
                continue  # subscribed less than one interval ago
            if not fetched:
                data, fetched = self._sample_of(cycle), True
            if data is not None and not subscription.push(data):
                # Full inbox (the stream stopped draining) or already closed: stop feeding it.
                self._forget(subscription)
                if subscription.reason == "slow":
                    self.dropped_slow += 1

    async def _run(self) -> None:
        index = 0
        while True:
            due = self._origin + (index + 1) * self.width
            await asyncio.sleep(max(0.0, due - self.now()))
            now = self.now()
            self.serve(index, now)
            if not self._count:
                # The pass dropped the last listener (a stalled client): stop sampling for nobody.
                self._task = None
                return
            index += 1
            behind = now - (self._origin + (index + 1) * self.width)
            if behind >= self.interval:
                # Far behind (overloaded loop): skip whole missed intervals instead of bursting;
                # a smaller lag is caught up pass by pass, keeping every bucket's turn.
                index += self.buckets * int(behind // self.interval)
