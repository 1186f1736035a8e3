"""What an extra client keeps: the bytes and events the main capture already holds, once.

The suite's other clients (stream.concurrent's, stream.disconnect's follow-up, the reconnecting
client) usually read the very stream the main capture reads. Kept whole, each cost as much as the
main one (a million tiny events: 9 MB of body and 24 MB of event columns each, six streams in
all; issue 16 point 3). While such a client reads, its :class:`LeanLog` counts and times its
events (what the transport and the run need: ``len``, the arrival times) and compares each of
its reads with the main capture's bytes at the same offset (:class:`MainBody`): a read the main
capture holds byte for byte is dropped, any other is kept. Once the main capture ended,
:func:`rehydrate` gives the client a whole Capture again, exactly what it would have recorded:

- its body was a prefix of the main one, byte for byte: its events are the main capture's first
  ones (their columns shared, not copied: :meth:`EventLog.shared`) timed by its own reads, and
  its chunks are the main capture's (their read times are the main client's);
- else (another stream, or the main capture ended first): its body is rebuilt, the main
  capture's bytes up to where they differed and its own from there, and parsed again as it was
  read (same reads, same times, same events).

The runner marks the extra clients' context (:data:`LEAN_MAIN`, set around the tasks it starts
for them), so the transports stay as they are: a Recorder built in that context keeps lean.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from contextvars import ContextVar
from typing import overload

from conformance.capture.event_log import EventLog, TimedEvent
from conformance.capture.model import Capture, Chunk
from conformance.parser import Event, Parser


class MainBody:
    """The main capture's decoded body while it grows, for the extra clients to compare with."""

    def __init__(self, cap: Capture | None = None) -> None:
        self.cap = cap  # the main capture (the runner sets it at its first read)
        self.done = False  # the main capture ended: what it does not hold it never will
        self._starts: list[int] = []  # the offset of each of its chunks (grown as they come)

    def same(self, offset: int, data: bytes) -> bool | None:
        """Whether the main body holds ``data`` at ``offset``: True or False, or None when it
        has not got that far yet (False once it is done). Never raises."""
        cap = self.cap
        chunks = cap.chunks if cap is not None else []
        end = offset + len(data)
        if not chunks or chunks[-1].offset + len(chunks[-1].data) < end:
            return False if self.done else None
        starts = self._starts
        starts.extend(c.offset for c in chunks[len(starts) :])
        i = bisect_right(starts, offset) - 1
        view = memoryview(data)
        pos = 0
        while pos < len(data):
            chunk = chunks[i]
            start = offset + pos - chunk.offset
            piece = memoryview(chunk.data)[start : start + len(data) - pos]
            if piece != view[pos : pos + len(piece)]:
                return False
            pos += len(piece)
            i += 1
        return True

    def slice(self, offset: int, length: int) -> bytes:
        """The main body's bytes at ``offset`` (fewer where it ends). Never raises."""
        return b"" if self.cap is None else self.cap.excerpt_at(offset, length)


LEAN_MAIN: ContextVar[MainBody | None] = ContextVar("LEAN_MAIN", default=None)


class LeanLog(EventLog):
    """An extra client's events while it reads: counted and timed (one entry per read), the
    last one kept, no columns; its reads kept only where the main body differs or is not there
    yet. Reading its events before :func:`rehydrate` raises RuntimeError (a suite bug)."""

    __slots__ = (
        "_count",
        "_diverged",
        "_main",
        "_own",
        "_pending",
        "last",
        "max_line_bytes",
        "pieces",
    )

    def __init__(self, main: MainBody, max_line_bytes: int) -> None:
        super().__init__()
        self._main = main
        self.max_line_bytes = max_line_bytes
        self._count = 0
        self.last: Event | None = None
        self.pieces: list[tuple[float, int, int, int]] = []  # (t, offset, length, raw_total)
        self._own: dict[int, bytes] = {}  # piece -> its bytes, where not (yet) the main's
        self._pending: deque[int] = deque()  # pieces not compared yet, in order
        self._diverged = False

    def record(self, event: Event, t: float) -> None:
        """Count ``event``, completed at ``t``. Never raises."""
        if not self._t or self._t[-1] != t:
            self._t_from.append(self._count)
            self._t.append(t)
        self._count += 1
        self.last = event

    def piece(self, t: float, offset: int, data: bytes, raw_total: int) -> None:
        """One decoded read at ``t``: kept until the main body is seen to hold it. Never
        raises."""
        index = len(self.pieces)
        self.pieces.append((t, offset, len(data), raw_total))
        self._own[index] = data
        if not self._diverged:
            self._pending.append(index)
            self.compare()

    def compare(self) -> None:
        """Drop the pending reads the main body now holds, in order, up to the first it does
        not hold yet; at the first that differs, keep every read from there on. Never raises."""
        while self._pending:
            index = self._pending[0]
            same = self._main.same(self.pieces[index][1], self._own[index])
            if same is None:
                return
            if not same:
                self._diverged = True
                self._pending.clear()
                return
            del self._own[index]
            self._pending.popleft()

    @property
    def whole_prefix(self) -> bool:
        """Every read was the main body's own bytes (after :meth:`compare` with it done)."""
        return not self._own

    def own(self, index: int) -> bytes | None:
        """The bytes kept of read ``index``, or None (the main body holds them). Never raises."""
        return self._own.get(index)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> TimedEvent: ...
    @overload
    def __getitem__(self, i: slice) -> list[TimedEvent]: ...
    def __getitem__(self, i: int | slice) -> TimedEvent | list[TimedEvent]:
        raise RuntimeError("an extra client's events are read once it is rehydrated")

    def __iter__(self) -> Iterator[TimedEvent]:
        raise RuntimeError("an extra client's events are read once it is rehydrated")

    def types(self) -> set[str]:
        """Raises RuntimeError: read once it is rehydrated."""
        raise RuntimeError("an extra client's events are read once it is rehydrated")

    def __repr__(self) -> str:
        return f"LeanLog({self._count} events)"


def _main_chunks(main: Capture, length: int) -> list[Chunk]:
    """The main capture's chunks covering its first ``length`` bytes (the last one cut)."""
    out: list[Chunk] = []
    for chunk in main.chunks:
        if chunk.offset >= length:
            break
        if chunk.offset + len(chunk.data) > length:
            chunk = Chunk(
                chunk.t, chunk.offset, chunk.data[: length - chunk.offset], chunk.raw_total
            )
        out.append(chunk)
    return out


def rehydrate(cap: Capture, main: Capture) -> None:
    """Give a lean extra client (:class:`LeanLog`) its whole events and chunks again, once the
    main capture ``main`` has ended (see the module's docstring); any other capture is left as
    it is. Never raises."""
    log = cap.events
    if not isinstance(log, LeanLog):
        return
    body = MainBody(main)
    body.done = True
    log._main = body
    log.compare()
    n = len(log)
    length = sum(p[2] for p in log.pieces)
    if (
        log.whole_prefix
        and n <= len(main.events)
        and (n == 0 or main.events[n - 1].event == log.last)
    ):
        cap.events = main.events.shared(n, log._t_from, log._t)
        cap.chunks = _main_chunks(main, length)
        return
    parser = Parser(max_line_bytes=log.max_line_bytes)
    events = EventLog()
    chunks: list[Chunk] = []
    for index, (t, offset, size, raw_total) in enumerate(log.pieces):
        data = log.own(index)
        if data is None:
            data = body.slice(offset, size)
        chunks.append(Chunk(t, offset, data, raw_total))
        for event in parser.feed(data):
            events.record(event, t)
    cap.events = events
    cap.chunks = chunks
