"""Streams that never end (issue 12), on the byte-exact toolkit of :mod:`testing.rawhttp`.

A notification feed, a ticker, a log tail: events now and then, ``: ping`` comments to keep the
connection alive, and no end. :class:`EndlessStream` is one handler with a knob per behaviour
(event pace, bursts, pings, a silence, an early end); the presets below are the known servers of
``tests/conformance/test_endless.py``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from testing.rawhttp import Exchange

HEAD: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("Transfer-Encoding", "chunked"),
)
PING = b": ping\n\n"


@dataclass(frozen=True)
class EndlessStream:
    """An endless SSE stream: ``burst`` events every ``event_every`` seconds (the first after
    ``first_event``), a ``: ping`` comment every ``ping_every`` seconds (None: no comments).

    ``events_until``: no event from then on, only the pings, if any (a feed with nothing to
    say). ``end_after``: the server ends the stream cleanly then (an endless stream ending
    early). ``buffered_until``: hold every byte back and write it all at once at that time (a
    buffer in front of an endless feed), then nothing more.
    """

    event_every: float = 1.0
    ping_every: float | None = None
    first_event: float = 0.0
    burst: int = 1
    events_until: float | None = None
    end_after: float | None = None
    buffered_until: float | None = None
    headers: tuple[tuple[str, str], ...] = HEAD

    def event(self, index: int) -> bytes:
        """Event ``index``: an id and a JSON tick. Never raises."""
        data = json.dumps({"tick": index})
        return f"id: {index}\ndata: {data}\n\n".encode()

    async def __call__(self, ex: Exchange) -> None:
        await ex.send_head(200, list(self.headers))
        t0 = time.monotonic()
        next_event, next_ping, index = self.first_event, self.ping_every, 0
        resume = (ex.request.header("last-event-id") or "").strip()
        if resume.isdigit():
            index = int(resume) + 1  # a live feed resumes after the last tick the client saw
        held: list[bytes] = []

        def clock() -> float:
            return time.monotonic() - t0

        def events_left() -> bool:
            return self.events_until is None or next_event < self.events_until

        while True:
            now = clock()
            if self.end_after is not None and now >= self.end_after:
                await ex.end_body()
                return
            if self.buffered_until is not None and now >= self.buffered_until:
                await ex.send_body(b"".join(held))
                await ex.wait_gone()
            wakes = [t for t in (self.end_after, self.buffered_until, next_ping) if t is not None]
            if events_left():
                wakes.append(next_event)
            if not wakes:
                await ex.wait_gone()
            await ex.pause(max(0.0, min(wakes) - clock()))
            now = clock()
            if events_left() and now >= next_event:
                block = b"".join(self.event(index + k) for k in range(self.burst))
                index += self.burst
                next_event += self.event_every
                await self._send(ex, block, held)
            if next_ping is not None and self.ping_every is not None and now >= next_ping:
                next_ping += self.ping_every
                await self._send(ex, PING, held)

    async def _send(self, ex: Exchange, block: bytes, held: list[bytes]) -> None:
        if self.buffered_until is not None:
            held.append(block)
        else:
            await ex.send_body(block)


# The known servers of issue 12 (test pace: seconds, not minutes).
TICKER_WITH_PINGS = EndlessStream(event_every=1.0, ping_every=0.4)
"""Endless: an event every second plus pings: passes under --hold."""

SPARSE_NO_COMMENTS = EndlessStream(event_every=1.5)
"""Endless: an event every 1.5 s and no comments: stream.heartbeat warns at --heartbeat-max 1."""

PINGS_AND_RARE_DATA = EndlessStream(event_every=2.0, first_event=0.2, ping_every=0.3)
"""Endless: comments three times a second, data every 2 s: the comments keep it alive."""

BURSTY_TICKER = EndlessStream(event_every=0.8, burst=4, ping_every=0.4)
"""Endless: four events at once every 0.8 s (a source that sends what changed): not buffering."""

BUFFERED_HOLD = EndlessStream(event_every=0.1, buffered_until=1.5)
"""Endless, behind a buffer: the whole held window arrives in one block after 1.5 s: buffering."""

ENDS_EARLY = EndlessStream(event_every=0.2, ping_every=0.5, end_after=1.0)
"""Said to be endless, but the server ends it after a second."""

GOES_SILENT = EndlessStream(event_every=0.5, events_until=1.2)
"""Events for 1.2 s, then silence: behind a proxy with a short read timeout, cut."""

PINGED_SILENCE = EndlessStream(event_every=0.5, events_until=1.2, ping_every=1.0)
"""The same, but with a comment every second even while it has nothing to say: survives."""
