"""The SSE response of GET /api/stream: a small ASGI response instead of StreamingResponse.

Why custom: a stream must (a) notice ``http.disconnect`` while it waits for the next tick, so a
client that leaves stops costing anything within one interval and leaves no task behind; (b) be fed
by the shared :class:`~reference.sampler.Sampler` through a bounded inbox, and give up on a client
whose ``send`` stays blocked longer than ``send_timeout``; (c) be counted, for ``/healthz``, for
``--max-streams`` and for a prompt shutdown (:meth:`StreamHub.shutdown` ends every stream, because
uvicorn otherwise waits for open responses to finish before it exits).

Wire format, fixed: every message is ``id: N\\n`` then ``data: <JSON string>\\n`` then ``\\n``.
Message 0 is sent at once; each following message goes out on a shared sampler tick (so the first
sample comes less than one interval after message 0), the sentinel on the tick after the last sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from reference.sampler import Sampler, Subscription, encode_data

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

    started: int = 0
    completed: int = 0
    disconnected: int = 0
    dropped: int = 0
    shutdown: int = 0
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

    def open(self) -> Subscription:
        """Register a stream; the caller checked :meth:`has_room` without awaiting since."""
        subscription = self.sampler.subscribe(self.queue_size)
        self._open.add(subscription)
        self.counters.started += 1
        return subscription

    def close(self, subscription: Subscription, reason: str) -> None:
        subscription.close(reason)
        if subscription in self._open:
            self._open.discard(subscription)
            self.sampler.unsubscribe(subscription)
            final = subscription.reason or reason
            if final == "completed":
                self.counters.completed += 1
            elif final == "disconnected":
                self.counters.disconnected += 1
            elif final in ("slow", "send_timeout"):
                self.counters.dropped += 1
            elif final == "shutdown":
                self.counters.shutdown += 1

    def shutdown(self) -> None:
        """Refuse new streams and wake every open one so it ends its response now."""
        self.closing = True
        for subscription in list(self._open):
            subscription.close("shutdown")


class SendTimeout(Exception):
    """The client stopped draining its socket for longer than ``send_timeout``."""


class SSEStream(Response):
    """ASGI response streaming messages ``first_id`` .. ``samples + 1`` of one run.

    A Response subclass only so FastAPI passes it through untouched; it never buffers a body.
    """

    def __init__(self, hub: StreamHub, *, samples: int, first_id: int, send_timeout: float) -> None:
        super().__init__(status_code=200)
        self.raw_headers = list(STREAM_HEADERS)
        self.hub = hub
        self.samples = samples
        self.first_id = first_id
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self.hub.open()
        watcher = asyncio.get_running_loop().create_task(
            _watch_disconnect(receive, subscription), name="reference-disconnect-watch"
        )
        reason = "completed"
        try:
            await self._send(
                send, {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
            )
            reason = await self._produce(send, subscription)
            if reason in ("completed", "shutdown"):
                await self._send(
                    send, {"type": "http.response.body", "body": b"", "more_body": False}
                )
        except SendTimeout:
            reason = "send_timeout"
            logger.warning(
                "dropped a stream whose client stopped reading for %ss", self.send_timeout
            )
        except OSError:
            reason = "disconnected"
        finally:
            self.hub.close(subscription, reason)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _produce(self, send: Send, subscription: Subscription) -> str:
        """Send the run; returns why it ended: completed, disconnected, slow or shutdown."""
        last_id = self.samples + 1
        message_id = self.first_id
        if message_id == 0:
            await self._body(send, b"id: 0\n" + FIRST_DATA)
            message_id = 1
        while message_id <= last_id:
            data = await subscription.get()
            if data is None:
                return subscription.reason or "disconnected"
            if message_id == last_id:
                data = SENTINEL_DATA
            await self._body(send, b"id: %d\n" % message_id + data)
            message_id += 1
        return "completed"

    async def _body(self, send: Send, body: bytes) -> None:
        await self._send(send, {"type": "http.response.body", "body": body, "more_body": True})

    async def _send(self, send: Send, message: Message) -> None:
        # asyncio.timeout schedules one timer handle: no extra task per send.
        try:
            async with asyncio.timeout(self.send_timeout):
                await send(message)
        except TimeoutError:
            raise SendTimeout from None


async def _watch_disconnect(receive: Receive, subscription: Subscription) -> None:
    """Close the subscription when the client goes away, waking the stream at once."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscription.close("disconnected")
            return
