"""The events of a capture, kept compact: columns of machine integers, not Python objects.

A dispatched event as objects (an :class:`~conformance.parser.Event`, its strings, a
:class:`TimedEvent`) costs about 290 bytes; a million tiny events cost 290 MB for a 9 MB body
(issue 16 point 3). :class:`EventLog` keeps per event an offset (4 bytes, 8 past a 4 GB
body), a length (4) and three 4-byte codes for type, data and last event ID, so about 16 bytes
(an extra client of a run shares the main capture's: capture/lean.py); the arrival times are
run-length encoded (one entry per read that completed events). A code names a string of a
deduplicated table (the first ``MAX_INTERNED`` distinct strings; later new strings are stored
once per event, which the body bounds) or, for a canonical decimal ID such as ``"12345"``, the
number itself, so numbered streams cost no string per event. Reading materialises a
:class:`TimedEvent` equal to the one recorded; the log is read-only apart from appending.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from conformance.parser import Event
from conformance.parser.interpret import make_event

MAX_INTERNED = 4096  # distinct strings deduplicated (a hostile stream may send only new ones)
_MAX_NUMBER = 999_999_999  # a decimal string up to 9 digits is coded as its value (int32)
_MAX_LENGTH = (1 << 32) - 1  # offsets and lengths fit unsigned 32-bit columns until one does not


@dataclass(frozen=True, slots=True)
class TimedEvent:
    event: Event
    t: float  # arrival time of the chunk that completed it
    index: int

    @property
    def type(self) -> str:
        """The event's type. Never raises."""
        return self.event.type

    @property
    def data(self) -> str:
        """The event's data. Never raises."""
        return self.event.data

    @property
    def last_event_id(self) -> str:
        """The last event ID when it was dispatched. Never raises."""
        return self.event.last_event_id

    @property
    def offset(self) -> int:
        """Raw byte offset of the event's first line. Never raises."""
        return self.event.offset


class EventLog(Sequence[TimedEvent]):
    """Every event of a capture in order, as compact columns; a read-only ``Sequence`` of
    :class:`TimedEvent` (indexing, negative indices, slices as lists, iteration, ``len``),
    equal to any sequence of the same events."""

    __slots__ = (
        "_codes",
        "_data",
        "_id",
        "_length",
        "_limit",
        "_offset",
        "_strings",
        "_t",
        "_t_from",
        "_type",
    )

    def __init__(self, events: Iterable[TimedEvent] = ()) -> None:
        """Raises ValueError if an event's index is not its position."""
        self._offset = array("I")  # widened to 64 bits at the first offset past 4 GB
        self._length = array("I")
        self._type = array("i")
        self._data = array("i")
        self._id = array("i")
        self._t_from = array("q")  # index of the first event of each run of equal times
        self._t = array("d")  # the time of each run
        self._strings: list[str] = []
        self._codes: dict[str, int] = {}
        self._limit = -1  # a shared view (shared()): its length; -1: its own columns
        for timed in events:
            self.append(timed)

    def _code(self, text: str) -> int:
        code = self._codes.get(text)
        if code is not None:
            return code
        n = len(text)
        if 0 < n <= 9 and text.isascii() and text.isdigit() and (n == 1 or text[0] != "0"):
            return -int(text) - 1  # "0" is -1, "123" is -124: no string kept
        code = len(self._strings)
        self._strings.append(text)
        if len(self._codes) < MAX_INTERNED:
            self._codes[text] = code
        return code

    def _text(self, code: int) -> str:
        return self._strings[code] if code >= 0 else str(-code - 1)

    def record(self, event: Event, t: float) -> None:
        """Append ``event``, completed at ``t``, as the next one. Raises ValueError on a shared
        view (:meth:`shared`: read-only); never otherwise."""
        if self._limit >= 0:
            raise ValueError("a shared event log is read-only")
        n = len(self._offset)
        if not self._t or self._t[-1] != t:
            self._t_from.append(n)
            self._t.append(t)
        offset = event.offset
        if offset > _MAX_LENGTH and self._offset.typecode == "I":
            self._offset = array("q", self._offset)  # wider from now on (a body past 4 GB)
        self._offset.append(offset)
        length = event.end - offset
        if length > _MAX_LENGTH:
            self._length = array("q", self._length)  # wider from now on (a > 4 GB event)
        self._length.append(length)
        self._type.append(self._code(event.type))
        self._data.append(self._code(event.data))
        self._id.append(self._code(event.last_event_id))

    def append(self, timed: TimedEvent) -> None:
        """Append ``timed`` (built by hand: tests, replays). Raises ValueError if its index is not
        the next position."""
        if timed.index != len(self._offset):
            raise ValueError(f"event index {timed.index}, expected {len(self._offset)}")
        self.record(timed.event, timed.t)

    def __len__(self) -> int:
        return len(self._offset) if self._limit < 0 else self._limit

    def _at(self, i: int, t: float) -> TimedEvent:
        offset = self._offset[i]
        event = make_event(
            self._text(self._type[i]),
            self._text(self._data[i]),
            self._text(self._id[i]),
            offset,
            offset + self._length[i],
        )
        return TimedEvent(event, t, i)

    @overload
    def __getitem__(self, i: int) -> TimedEvent: ...
    @overload
    def __getitem__(self, i: slice) -> list[TimedEvent]: ...
    def __getitem__(self, i: int | slice) -> TimedEvent | list[TimedEvent]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("event index out of range")
        return self._at(i, self._t[bisect_right(self._t_from, i) - 1])

    def __iter__(self) -> Iterator[TimedEvent]:
        runs = len(self._t)
        for run in range(runs):
            t = self._t[run]
            stop = self._t_from[run + 1] if run + 1 < runs else len(self)
            for i in range(self._t_from[run], stop):
                yield self._at(i, t)

    def prefix(self, n: int) -> EventLog:
        """The first ``n`` events as a new log: the columns copied as machine integers, no event
        built (a cut-short stand-in of a million-event capture). Never raises."""
        n = max(0, min(n, len(self)))
        out = EventLog()
        out._offset = self._offset[:n]
        out._length = self._length[:n]
        out._type = self._type[:n]
        out._data = self._data[:n]
        out._id = self._id[:n]
        runs = bisect_left(self._t_from, n)  # the runs that start before the n-th event
        out._t_from = self._t_from[:runs]
        out._t = self._t[:runs]
        out._strings = list(self._strings)
        out._codes = dict(self._codes)
        return out

    def shared(self, n: int, t_from: Sequence[int], t: Sequence[float]) -> EventLog:
        """The first ``n`` events of this log with other arrival times (``t_from[k]``: the first
        event of the k-th run of equal times, ``t[k]`` its time): the columns are this log's,
        not copied. For an extra client that read the main stream's very bytes: its events
        are the main ones, timed by its own reads. Read-only (:meth:`record` raises).
        Raises ValueError if ``n`` is over this log's length or the runs do not start at 0."""
        if not 0 <= n <= len(self):
            raise ValueError(f"{n} events shared of {len(self)}")
        if n and (not t_from or t_from[0] != 0):
            raise ValueError("the time runs must start at the first event")
        out = EventLog()
        out._offset, out._length = self._offset, self._length
        out._type, out._data, out._id = self._type, self._data, self._id
        out._strings, out._codes = self._strings, self._codes
        out._t_from, out._t = array("q", t_from), array("d", t)
        out._limit = n
        return out

    def types(self) -> set[str]:
        """The distinct event types, read from the codes column: no event built (a million
        events' types in milliseconds). Never raises."""
        return {self._text(code) for code in set(memoryview(self._type)[: len(self)])}

    def time_runs(self) -> Iterator[tuple[float, int, int]]:
        """Each run of events that arrived in one read: ``(t, first index, stop index)``, in
        order, without building an event (timing checks scan a million events this way).
        Never raises."""
        runs = len(self._t)
        for run in range(runs):
            stop = self._t_from[run + 1] if run + 1 < runs else len(self)
            yield self._t[run], self._t_from[run], stop

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """A count, never the events (see conformance.reprs)."""
        return f"EventLog({len(self)} events)"


def time_runs(events: Sequence[TimedEvent]) -> Iterator[tuple[float, int, int]]:
    """``(t, first position, stop)`` of each run of events with one arrival time, in order
    (an EventLog has them without building an event). Never raises."""
    if isinstance(events, EventLog):
        yield from events.time_runs()
        return
    start = 0
    for i in range(1, len(events) + 1):
        if i == len(events) or events[i].t != events[start].t:
            yield events[start].t, start, i
            start = i
