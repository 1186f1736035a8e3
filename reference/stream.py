"""The SSE response of GET /api/stream: a small ASGI response instead of StreamingResponse.

Why custom: a stream must (a) notice ``http.disconnect`` while it waits for the next tick, so a
client that leaves stops costing anything within one interval and leaves no task behind; (b) be fed
by the shared :class:`~reference.sampler.Sampler` through a bounded inbox, and give up on a client
whose ``send`` stays blocked longer than ``send_timeout``; (c) be counted, for ``/healthz``, for
``--max-streams`` and for a prompt shutdown (:meth:`StreamHub.shutdown` ends every stream, because
uvicorn otherwise waits for open responses to finish before it exits).

Wire format, fixed: every message is ``id: N\\n`` then ``data: <JSON string>\\n`` then ``\\n``.
Message 0 is sent at once; each following message goes out at the stream's own phase (its start
time + k * interval, see :mod:`reference.sampler`), so the first sample comes one interval after
message 0 (plus at most 1/50 of it), the sentinel one interval after the last sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from reference.sampler import DROP_REASONS, Sampler, Subscription, encode_data

FIRST_MESSAGE = "Starting system RAM monitoring..."
SENTINEL = "RAM monitoring completed"
FIRST_DATA = encode_data(FIRST_MESSAGE)
SENTINEL_DATA = encode_data(SENTINEL)

STREAM_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]

logger = logging.getLogger("reference.stream")


@dataclass
class StreamCounters:
    """Lifetime counts shown by /healthz (how streams ended, and how many were refused)."""

    # Every GET /api/stream, whatever its answer (200, 204, 400, 503): lets a test prove that a
    # browser did not reconnect after the sentinel.
    requests: int = 0
    started: int = 0
    completed: int = 0
    disconnected: int = 0
    dropped: int = 0
    refused: int = 0


class StreamHub:
    """Counts open streams, enforces ``max_streams`` and ends every stream on shutdown."""

    def __init__(self, sampler: Sampler, *, max_streams: int, queue_size: int) -> None:
        self.sampler = sampler
        self.max_streams = max_streams
        self.queue_size = queue_size
        self.counters = StreamCounters()
        self.closing = False
        self._open: set[Subscription] = set()

    @property
    def open_streams(self) -> int:
        return len(self._open)

    def has_room(self) -> bool:
        return not self.closing and len(self._open) < self.max_streams

    def open(self, task: asyncio.Task[Any] | None = None) -> Subscription:
        """Register a stream; the caller checked :meth:`has_room` without awaiting since."""
        subscription = self.sampler.subscribe(self.queue_size, task)
        self._open.add(subscription)
        self.counters.started += 1
        return subscription

    def close(self, subscription: Subscription, reason: str) -> None:
        subscription.close(reason)
        if subscription in self._open:
            self._open.discard(subscription)
            self.sampler.unsubscribe(subscription)
            # A run that sent its sentinel is complete even if shutdown raced its last step.
            final = reason if reason == "completed" else (subscription.reason or reason)
            if final == "completed":
                self.counters.completed += 1
            elif final == "disconnected":
                self.counters.disconnected += 1
            elif final in ("slow", "send_timeout"):
                self.counters.dropped += 1

    def shutdown(self) -> None:
        """Refuse new streams and wake every open one so it ends its response now."""
        self.closing = True
        for subscription in list(self._open):
            subscription.close("shutdown")


class SSEStream(Response):
    """ASGI response streaming messages ``first_id`` .. ``samples + 1`` of one run.

    A Response subclass only so FastAPI passes it through untouched; it never buffers a body.
    """

    def __init__(self, hub: StreamHub, *, samples: int, first_id: int) -> None:
        super().__init__(status_code=200)
        self.raw_headers = list(STREAM_HEADERS)
        self.hub = hub
        self.samples = samples
        self.first_id = first_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        subscription = self.hub.open(asyncio.current_task())
        watcher = loop.create_task(
            _watch_disconnect(receive, subscription), name="reference-disconnect-watch"
        )
        reason = "completed"
        try:
            reason = await self._produce(send, subscription, loop.time)
        except asyncio.CancelledError:
            if subscription.reason not in DROP_REASONS:
                raise
            # Our own drop (the client stopped reading): end quietly, the task is not cancelled.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            reason = subscription.reason
        except OSError:
            reason = "disconnected"
        finally:
            self.hub.close(subscription, reason)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if reason in DROP_REASONS:
            logger.warning("dropped a stream whose client stopped reading (%s)", reason)

    async def _produce(
        self, send: Send, subscription: Subscription, now: Callable[[], float]
    ) -> str:
        """Send the run; returns why it ended: completed, disconnected, shutdown (or a drop)."""

        async def timed_send(message: Message) -> None:
            # The sampler's watchdog drops this stream if the send is still pending after
            # send_timeout; no timer is armed per send.
            subscription.sending_since = now()
            await send(message)
            subscription.sending_since = None

        await timed_send(
            {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
        )
        last_id = self.samples + 1
        message_id = self.first_id
        if message_id == 0:
            await timed_send(_body(b"id: 0\n" + FIRST_DATA))
            message_id = 1
        while message_id <= last_id:
            data = await subscription.get()
            if data is None:
                reason = subscription.reason or "disconnected"
                if reason == "shutdown":
                    await timed_send(_END)
                return reason
            if message_id == last_id:
                data = SENTINEL_DATA
            await timed_send(_body(b"id: %d\n" % message_id + data))
            message_id += 1
        await timed_send(_END)
        return "completed"


_END: Message = {"type": "http.response.body", "body": b"", "more_body": False}


def _body(body: bytes) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": True}


async def _watch_disconnect(receive: Receive, subscription: Subscription) -> None:
    """Close the subscription when the client goes away, waking the stream at once."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscription.close("disconnected")
            return
