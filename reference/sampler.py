"""One RAM sampler per process, fanned out to every open stream.

The demo we replace called psutil and formatted the text once per client per second; here a tick
costs one ``virtual_memory()`` call and one formatting, whatever the number of clients, and every
stream receives the same pre-encoded ``data:`` bytes. Each stream owns a :class:`Subscription`: a
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


# Reasons a stream is dropped by the server (as opposed to ending or being left by its client).
DROP_REASONS = frozenset({"slow", "send_timeout"})


class Subscription:
    """A stream's bounded inbox of pre-encoded ticks; closed once, with a reason.

    ``task`` and ``sending_since`` let the sampler drop a stream stuck in ``send`` (its client
    stopped reading): the check rides on the tick loop, so the hot path arms no timer per send.
    """

    __slots__ = ("_items", "_loop", "_maxsize", "_waiter", "reason", "sending_since", "task")

    def __init__(self, maxsize: int, task: asyncio.Task[Any] | None = None) -> None:
        self._items: deque[bytes] = deque()
        self._maxsize = maxsize
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self.reason: str | None = None
        self.task = task
        self.sending_since: float | None = None

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
    """The process-wide ticker; ``read_memory`` and ``clock`` are injectable for exact-byte tests."""

    def __init__(
        self,
        interval: float,
        *,
        send_timeout: float = math.inf,
        read_memory: Callable[[], MemoryReading] = psutil.virtual_memory,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.interval = interval
        self.send_timeout = send_timeout
        self._read_memory = read_memory
        self._clock = clock
        # A dict, not a set: ticks serve streams in arrival order, the same order every tick, so
        # each stream's place in the fan-out burst (and so its cadence) stays steady.
        self._subscribers: dict[Subscription, None] = {}
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.dropped_slow = 0
        self.dropped_send_timeout = 0
        self.sample_errors = 0
        self.latest_text: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self, maxsize: int, task: asyncio.Task[Any] | None = None) -> Subscription:
        subscription = Subscription(maxsize, task)
        self._subscribers[subscription] = None
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="reference-sampler"
            )
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.pop(subscription, None)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        """Cancel the ticker and wait for it (used at shutdown)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def sample(self) -> bytes:
        """One psutil call, one formatting, one encoding: the bytes every stream shares."""
        text = format_sample(self._clock(), self._read_memory())
        self.latest_text = text
        return encode_data(text)

    def tick(self, now: float | None = None) -> None:
        """Sample once and hand the same bytes to every subscriber without awaiting.

        Also the send watchdog: a stream whose current send started more than ``send_timeout``
        ago is dropped here (so the timeout is enforced with one tick's resolution).
        """
        self.ticks += 1
        data: bytes | None
        try:
            data = self.sample()
        except Exception:
            # Keep ticking (streams wait for the next good sample) rather than let the ticker die
            # and leave every stream waiting forever; say it once, with the traceback.
            self.sample_errors += 1
            if self.sample_errors == 1:
                logger.exception("sampling RAM failed; retrying on every tick")
            data = None
        if now is None:
            now = asyncio.get_running_loop().time()
        deadline = now - self.send_timeout
        for subscription in list(self._subscribers):
            since = subscription.sending_since
            if since is not None and since < deadline:
                subscription.drop("send_timeout")
                self._subscribers.pop(subscription, None)
                self.dropped_send_timeout += 1
            elif data is not None and not subscription.push(data):
                # Full inbox (the stream stopped draining) or already closed: stop feeding it.
                self._subscribers.pop(subscription, None)
                if subscription.reason == "slow":
                    self.dropped_slow += 1

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self.interval
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            self.tick(loop.time())
            if not self._subscribers:
                # The tick dropped the last listener (a stalled client): stop sampling for nobody.
                self._task = None
                return
            now = loop.time()
            next_tick += self.interval
            if next_tick <= now:
                # We fell behind (overloaded loop): skip the missed ticks instead of bursting.
                missed = int((now - next_tick) // self.interval) + 1
                next_tick += missed * self.interval
