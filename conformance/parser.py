"""Sans-IO parser for ``text/event-stream`` (WHATWG HTML, "Parsing an event stream").

It answers one question exactly: which events would a browser's ``EventSource`` dispatch for
these bytes?  It also notes, as :class:`Observation` objects, everything a browser tolerates
silently but an author probably did not mean (an unknown field, a bogus ``retry``, an event the
stream ended inside of), with the raw byte offset of the evidence, so the checks can say *where*.

Quotes in comments are from the WHATWG HTML Living Standard, section 9.2 "Server-sent events",
subsections "Parsing an event stream" and "Interpreting an event stream".

Design notes (why it looks the way it does):

* Bytes in, not text: line endings (CR and LF) are ASCII, so no UTF-8 sequence can span one and
  an invalid sequence always ends before one.  Splitting the raw bytes into lines first and
  decoding each value afterwards is therefore the same as decoding the whole stream first, as
  the spec says, and it keeps raw byte offsets for the evidence.
* A line is processed as soon as its CR or LF arrives (browsers dispatch on the CR too); an LF
  that follows in the next chunk is then recognised as the second half of the CRLF.  So every
  event is returned by the ``feed()`` call that delivered its blank line, and the result does
  not depend on how the stream was cut into chunks (tests check this for every split).
* Chunks without a CR (the common case) take a fast path: ``bytes.split(b"\\n")``.  A line
  still incomplete at the end of a chunk is kept in a bytearray (amortised linear appends, one
  byte of memory per byte even when it arrives a byte at a time), so a huge line costs linear
  time, and at most ``max_line_bytes`` of it is ever kept: the rest is counted, not stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from conformance.evidence import escape_excerpt

__all__ = [
    "BENIGN_KINDS",
    "Event",
    "Observation",
    "ObservationKind",
    "Parser",
    "escape_excerpt",
    "parse_all",
]

BOM = b"\xef\xbb\xbf"
EXCERPT = 64  # bytes of raw evidence kept per observation
# distinct unknown field names remembered (a hostile stream can send millions)
MAX_UNKNOWN_NAMES = 100
_MAX_RETRY_DIGITS = 4000  # Python refuses int() on longer decimal strings


class ObservationKind(StrEnum):
    """Things a browser tolerates silently but an author probably did not mean."""

    BOM = "bom"  # a leading U+FEFF was stripped (valid)
    # BOM then LF or lone CR: Chromium drops the first block
    BOM_BARE_LINE_END = "bom-bare-line-end"
    INVALID_UTF8 = "invalid-utf8"  # bytes decoded to U+FFFD
    UNKNOWN_FIELD = "unknown-field"  # a field name other than event/data/id/retry (ignored)
    NO_COLON = "no-colon"  # a line without a colon: the whole line is a field name
    BAD_RETRY = "bad-retry"  # retry value not all ASCII digits (ignored)
    EMPTY_RETRY = "empty-retry"  # retry with an empty value (spec: ignored; Chromium: resets delay)
    NUL_ID = "nul-id"  # id containing U+0000 (ignored)
    NO_DATA_BLOCK = "no-data-block"  # a block with fields but no data: nothing dispatched
    TRAILING_PARTIAL = "trailing-partial"  # the stream ended inside an event: it is discarded
    LINE_TOO_LONG = "line-too-long"  # a line exceeded max_line_bytes: rest of the line dropped


# Observations that describe a valid, intended stream: everything else is an anomaly.
BENIGN_KINDS = frozenset({ObservationKind.BOM})


@dataclass(frozen=True, slots=True)
class Observation:
    kind: ObservationKind
    offset: int  # byte offset in the raw stream (BOM included) where the evidence starts
    excerpt: bytes  # raw bytes at that offset (at most ~64)
    detail: str  # one line for a person


@dataclass(frozen=True, slots=True)
class Event:
    """A dispatched MessageEvent, as a browser's ``EventSource`` would deliver it."""

    type: str  # "message" unless an event field set it
    data: str  # with the one trailing LF removed
    last_event_id: str
    offset: int  # raw byte offset of the first line of the block
    # raw byte offset just past the blank line that dispatched it.  The event is dispatched
    # when the blank line's CR or LF arrives (as in browsers), so for a CRLF this points just
    # past the CR: the value never depends on how the stream was split into chunks.
    end: int


_new_object = object.__new__
_SET_TYPE: Callable[[Event, str], None] = Event.__dict__["type"].__set__
_SET_DATA: Callable[[Event, str], None] = Event.__dict__["data"].__set__
_SET_LAST_EVENT_ID: Callable[[Event, str], None] = Event.__dict__["last_event_id"].__set__
_SET_OFFSET: Callable[[Event, int], None] = Event.__dict__["offset"].__set__
_SET_END: Callable[[Event, int], None] = Event.__dict__["end"].__set__


def _make_event(type_: str, data: str, last_event_id: str, offset: int, end: int) -> Event:
    """``Event(...)`` four times faster: a frozen dataclass's __init__ goes through
    ``object.__setattr__`` per field, the slot descriptors do not (same object, same eq/hash)."""
    event: Event = _new_object(Event)
    _SET_TYPE(event, type_)
    _SET_DATA(event, data)
    _SET_LAST_EVENT_ID(event, last_event_id)
    _SET_OFFSET(event, offset)
    _SET_END(event, end)
    return event


EventCallback = Callable[[Event], None]
ObservationCallback = Callable[[Observation], None]


class Parser:
    """Bytes in, events and observations out. No sockets, no clocks.

    Attributes readable at any time: ``observations`` (list[Observation], capped at
    ``max_observations`` with ``observations_dropped`` counting the rest), ``line_endings``
    (dict "LF"/"CRLF"/"CR" -> count), ``first_line_ending`` (dict style -> raw offset of its
    first use), ``comments`` (count of comment lines), ``retry`` (last valid reconnection time
    in ms, or None), ``last_event_id`` (str), ``bytes_fed`` (int), ``longest_line`` (int bytes).

    Also: ``observation_counts`` (kind -> count, dropped ones included), ``unknown_fields``
    (name -> count, at most MAX_UNKNOWN_NAMES names), ``bom`` (a BOM was stripped),
    ``events_dispatched`` (int), ``last_event_id_buffer`` (the id buffer, which an unterminated
    block may have changed without dispatching), ``closed``.

    A CR line ending is counted as "CR" or "CRLF" once the next byte is known (or at close()).
    """

    # Tests turn this off to prove the LF fast path and the general path agree.
    _fast_path = True

    def __init__(
        self,
        *,
        max_line_bytes: int = 1 << 20,
        max_observations: int = 1000,
        on_event: EventCallback | None = None,
        on_observation: ObservationCallback | None = None,
    ) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be at least 1")
        self.max_line_bytes = max_line_bytes
        self.max_observations = max_observations
        self.on_event = on_event
        self.on_observation = on_observation
        self.reset()

    # ------------------------------------------------------------------ public API

    def reset(self) -> None:
        """Forget everything; ready for a new stream."""
        self.observations: list[Observation] = []
        self.observations_dropped = 0
        self.observation_counts: dict[ObservationKind, int] = {}
        self.unknown_fields: dict[str, int] = {}
        self.line_endings: dict[str, int] = {"LF": 0, "CRLF": 0, "CR": 0}
        self.first_line_ending: dict[str, int] = {}
        self.comments = 0
        self.retry: int | None = None
        # "When a stream is parsed, a data buffer, an event type buffer, and a last event ID
        # buffer must be associated with it. They must be initialized to the empty string."
        self.last_event_id = ""  # the EventSource's "last event ID string" (set at dispatch)
        self.last_event_id_buffer = ""
        self._data: list[str] = []  # values of the data buffer: buffer == "".join(v + "\n")
        self._event_type = ""
        self.bytes_fed = 0
        self.longest_line = 0
        self.events_dispatched = 0
        self.bom = False
        self.closed = False
        self._out: list[Event] = []
        # stream start: up to two bytes held back while they might still begin a BOM
        self._started = False
        self._head = b""
        self._bom_check = False  # BOM stripped, first line ending not seen yet
        # line assembly
        self._pos = 0  # raw offset of the first byte of the chunk being processed
        self._line_start = 0  # raw offset of the line being assembled
        # kept bytes of the line being assembled: a bytearray grows in amortised linear time
        # with ~1 byte of memory per byte, even when the line arrives one byte per chunk
        self._buf = bytearray()
        self._frag_total = 0  # its full length so far (kept or not)
        self._overflow = False  # LINE_TOO_LONG already recorded for this line
        self._cr_at = -1  # raw offset of a CR that ended the previous chunk's last line
        self._threshold = 0  # a line longer than this needs a look (longest_line, limit)
        # block tracking (lines since the last blank line)
        self._block_start = -1
        self._field_start = -1  # first non-comment line of the block
        self._field_line = b""  # the first field line of the block (for evidence)
        self._block_fields = 0  # non-data field lines in the block

    @property
    def buffered_bytes(self) -> int:
        """Bytes held for a line not yet terminated: never more than max_line_bytes + 2."""
        return len(self._buf) + len(self._head)

    @property
    def pending(self) -> bool:
        """Would ending the stream now discard something (an event being built, a field line
        not yet terminated)?  What close() reports as TRAILING_PARTIAL; comments don't count."""
        return bool(self._data) or self._block_fields > 0 or self._partial_line()

    def _partial_line(self) -> bool:
        if self._frag_total > 0:
            return not self._buf.startswith(b":")
        # a line held back while it might still start with a BOM ("\xef", "\xef\xbb")
        return bool(self._head)

    def feed(self, data: bytes) -> list[Event]:
        """Parse more bytes; return the events dispatched by them, in order."""
        if self.closed:
            raise RuntimeError("feed() after close(): call reset() to parse a new stream")
        if type(data) is not bytes:
            data = bytes(data)  # bytearray/memoryview: lines and excerpts must be immutable bytes
        out: list[Event] = []
        self._out = out
        self.bytes_fed += len(data)
        if not self._started:
            head = self._head + data
            if len(head) < len(BOM) and BOM.startswith(head):
                self._head = head  # "\xef" or "\xef\xbb": could still become a BOM
                return out
            data = self._start(head)
        if not data:
            return out
        if self._cr_at >= 0:
            # "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair": the CR ended
            # the line already; an LF right after it belongs to the same line ending.
            if data[0] == 0x0A:
                self._ending("CRLF", self._cr_at)
                data = data[1:]
                self._pos += 1
                self._line_start = self._pos
            else:
                self._ending("CR", self._cr_at)
            self._cr_at = -1
            if not data:
                return out
        if not self._fast_path:
            self._feed_general(data)
        elif b"\r" not in data:
            self._feed_split(data, b"\n", "LF")
        else:
            # One style throughout a chunk (LF-only, CRLF-only or CR-only) is what real servers
            # send: split on it.  A CR ending the chunk may be half a CRLF: it goes through the
            # general path, which leaves it pending.  Mixed chunks take the general path.
            body = data[:-1] if data[-1] == 0x0D else data
            crs = body.count(b"\r")
            lfs = body.count(b"\n")
            if not crs:
                self._feed_split(body, b"\n", "LF")
            elif not lfs:
                self._feed_split(body, b"\r", "CR")
            elif crs == lfs == body.count(b"\r\n"):
                self._feed_split(body, b"\r\n", "CRLF")
            else:
                body = data
                self._feed_general(data)
            if body is not data:
                self._feed_general(data[-1:])
        return out

    def close(self) -> None:
        """End of stream: pending data is discarded (recorded as TRAILING_PARTIAL if any)."""
        if self.closed:
            return
        if not self._started:
            # fewer than three bytes, a prefix of the BOM but not a BOM: they are content
            self._out = []
            rest = self._start(self._head)
            if rest:
                self._append_partial(rest)
                self._pos += len(rest)
        if self._cr_at >= 0:
            self._ending("CR", self._cr_at)
            self._cr_at = -1
        self.closed = True
        # "Once the end of the file is reached, any pending data must be discarded. (If the
        # file ends in the middle of an event, before the final empty line, the incomplete
        # event is not dispatched.)"
        self.longest_line = max(self.longest_line, self._frag_total)  # the cut-off line counts
        if self._buf and not self._buf.isascii():
            # the unterminated last line is discarded, but its bytes were still sent as UTF-8
            kept = bytes(self._buf)
            self._text(_trim_utf8_tail(kept) if self._overflow else kept, self._line_start)
        partial = self._partial_line()
        pending = bool(self._data) or self._block_fields > 0
        if pending or partial:
            if pending:
                offset, excerpt = self._field_start, self._field_line[:EXCERPT]
            else:
                offset, excerpt = self._line_start, bytes(self._buf[:EXCERPT])
            what = []
            if self._data:
                what.append(f"{len(self._data)} data line(s)")
            if self._block_fields:
                what.append(f"{self._block_fields} other field line(s)")
            if partial:
                what.append(f"an unterminated line of {self._frag_total} bytes")
            self._observe(
                ObservationKind.TRAILING_PARTIAL,
                offset,
                excerpt,
                "stream ended before the blank line that would dispatch the last event: "
                + ", ".join(what)
                + " discarded",
            )
        self._buf = bytearray()
        self._frag_total = 0

    # ------------------------------------------------------------------ stream start

    def _start(self, head: bytes) -> bytes:
        """Decide about the BOM once the first three bytes are known; return the content."""
        self._started = True
        self._head = b""
        # "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order Mark (BOM), if any."
        # Only one: a second BOM is content (format-bom-2).
        if head.startswith(BOM):
            self.bom = True
            self._bom_check = True
            self._observe(ObservationKind.BOM, 0, BOM, "a leading UTF-8 BOM was stripped")
            self._pos = self._line_start = len(BOM)
            return head[len(BOM) :]
        return head

    # ------------------------------------------------------------------ line splitting

    def _feed_split(self, data: bytes, sep: bytes, style: str) -> None:
        """Fast path: every line ending in this chunk is ``sep`` (none is a CR at its end)."""
        parts = data.split(sep)
        tail = parts.pop()
        if parts:
            count = len(parts)
            first_end = self._pos + len(parts[0])
            self.line_endings[style] += count
            if style not in self.first_line_ending:
                self.first_line_ending[style] = first_end
            if self._bom_check:
                self._bom_check = False
                if first_end == len(BOM) and style != "CRLF":
                    self._bom_bare(sep.decode())
            step = len(sep)
            if self._frag_total:
                first = parts[0]
                start = self._line_start
                nxt = start + self._frag_total + len(first) + step
                self._append_partial(first)
                line, full = self._take()
                self._line(
                    self._check_long(line, start, full) if full > self._threshold else line, start
                )
                start = nxt
                lines = iter(parts)
                next(lines)
            else:
                start = self._pos
                lines = iter(parts)
            start = self._run_lines(lines, start, step)
            self._line_start = start
        if tail:
            self._append_partial(tail)
        self._pos += len(data)

    def _run_lines(self, lines: Iterator[bytes], start: int, step: int) -> int:
        """The hot loop over one chunk's lines, each followed by a line ending of ``step``
        bytes; returns the raw offset of the line after the last.

        Attribute access costs more than the work itself, so the block state lives in locals
        here.  The common lines (blank, comment, ``data:``, ``id:``, ``event:``) are handled
        inline by the same rules as :meth:`_line` and :meth:`_dispatch` (tests compare both
        paths on every vector and on generated streams); every other line, and any line that
        needs an observation, is handed to those methods after the locals are written back.
        """
        out = self._out
        on_event = self.on_event
        threshold = self._threshold
        values = self._data
        event_type = self._event_type
        id_buffer = self.last_event_id_buffer
        last_id = self.last_event_id
        block_start = self._block_start
        field_start = self._field_start
        field_line = self._field_line
        fields = self._block_fields
        comments = self.comments
        dispatched = 0
        new_object, set_type, set_data = _new_object, _SET_TYPE, _SET_DATA
        set_last_event_id, set_offset, set_end = _SET_LAST_EVENT_ID, _SET_OFFSET, _SET_END
        for line in lines:
            n = len(line)
            if not n:
                if values:  # a blank line after data: dispatch (see _dispatch for the spec)
                    last_id = id_buffer
                    event = new_object(Event)  # _make_event, inlined
                    set_type(event, event_type or "message")
                    set_data(event, values[0] if len(values) == 1 else "\n".join(values))
                    set_last_event_id(event, last_id)
                    set_offset(event, block_start)
                    set_end(event, start + 1)
                    values = []
                    event_type = ""
                    block_start = field_start = -1
                    field_line = b""
                    fields = 0
                    dispatched += 1
                    out.append(event)
                    if on_event is not None:
                        self.last_event_id = last_id
                        on_event(event)
                    start += step
                    continue
                if not fields:  # nothing to dispatch and nothing to report (comments at most)
                    last_id = id_buffer
                    block_start = field_start = -1
                    start += step
                    continue
            elif n <= threshold:
                # first byte first: an int compare is cheaper than any slice or method call
                text: str | None = None
                first = line[0]
                if first == 0x3A and line.isascii():  # ":" a comment, and valid UTF-8
                    comments += 1
                    if block_start < 0:
                        block_start = start
                    start += n + step
                    continue
                if first == 0x64:  # "d"
                    if line.startswith(b"data:"):
                        try:
                            text = (line[6:] if n > 5 and line[5] == 0x20 else line[5:]).decode()
                        except UnicodeDecodeError:
                            text = None
                        else:
                            values.append(text)
                elif first == 0x69:  # "i"
                    if line.startswith(b"id:") and 0 not in line:
                        try:
                            text = (line[4:] if n > 3 and line[3] == 0x20 else line[3:]).decode()
                        except UnicodeDecodeError:
                            text = None
                        else:
                            id_buffer = text
                            fields += 1
                elif first == 0x65 and line.startswith(b"event:"):  # "e"
                    try:
                        text = (line[7:] if n > 6 and line[6] == 0x20 else line[6:]).decode()
                    except UnicodeDecodeError:
                        text = None
                    else:
                        event_type = text
                        fields += 1
                if text is not None:
                    if field_start < 0:
                        field_start = start
                        field_line = line
                        if block_start < 0:
                            block_start = start
                    start += n + step
                    continue
            # everything else: write the locals back, take the general path, reload
            self._data = values
            self._event_type = event_type
            self.last_event_id_buffer = id_buffer
            self.last_event_id = last_id
            self._block_start = block_start
            self._field_start = field_start
            self._field_line = field_line
            self._block_fields = fields
            self.comments = comments
            if n > threshold:
                line = self._check_long(line, start, n)
                threshold = self._threshold
            self._line(line, start)
            values = self._data
            event_type = self._event_type
            id_buffer = self.last_event_id_buffer
            last_id = self.last_event_id
            block_start = self._block_start
            field_start = self._field_start
            field_line = self._field_line
            fields = self._block_fields
            comments = self.comments
            start += n + step
        self._data = values
        self._event_type = event_type
        self.last_event_id_buffer = id_buffer
        self.last_event_id = last_id
        self._block_start = block_start
        self._field_start = field_start
        self._field_line = field_line
        self._block_fields = fields
        self.comments = comments
        self.events_dispatched += dispatched
        return start

    def _feed_general(self, data: bytes) -> None:
        """Chunks with a CR: "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair,
        a single U+000A LINE FEED (LF) character not preceded by a U+000D CARRIAGE RETURN (CR)
        character, and a single U+000D CARRIAGE RETURN (CR) character not followed by a U+000A
        LINE FEED (LF) character being the ways in which a line can end."
        """
        n = len(data)
        pos = self._pos
        i = 0  # start of the current line within data
        lf = data.find(b"\n")
        cr = data.find(b"\r")
        while lf >= 0 or cr >= 0:
            if cr < 0 or 0 <= lf < cr:
                end, style, skip = lf, "LF", 1
            elif cr + 1 < n:
                end = cr
                if data[cr + 1] == 0x0A:
                    style, skip = "CRLF", 2
                else:
                    style, skip = "CR", 1
            else:
                end, style, skip = cr, "", 1  # CR at the end of the chunk: decided later
            piece = data[i:end]
            if self._frag_total:
                start = self._line_start
                self._append_partial(piece)
                line, full = self._take()
            else:
                start = pos + i
                line, full = piece, len(piece)
            if full > self._threshold:
                line = self._check_long(line, start, full)
            self._line(line, start)
            if style:
                self._ending(style, pos + end)
            else:
                self._cr_at = pos + end
            i = end + skip
            if 0 <= lf < i:
                lf = data.find(b"\n", i)
            if 0 <= cr < i:
                cr = data.find(b"\r", i)
        if i:  # a line ended in this chunk (else the pending line goes on)
            self._line_start = pos + i
        if i < n:
            self._append_partial(data[i:])
        self._pos = pos + n

    def _ending(self, style: str, offset: int) -> None:
        self.line_endings[style] += 1
        if style not in self.first_line_ending:
            self.first_line_ending[style] = offset
        if self._bom_check:
            self._bom_check = False
            if offset == len(BOM) and style != "CRLF":
                self._bom_bare("\r" if style == "CR" else "\n")

    def _bom_bare(self, ending: str) -> None:
        self._observe(
            ObservationKind.BOM_BARE_LINE_END,
            0,
            BOM + ending.encode(),
            "the BOM is followed directly by a bare "
            + ("CR" if ending == "\r" else "LF")
            + ": valid, but Chromium then dispatches nothing for the first block",
        )

    def _append_partial(self, piece: bytes) -> None:
        """Keep an unterminated piece of a line, never more than max_line_bytes of it."""
        self._frag_total += len(piece)
        if self._overflow:
            return
        room = self.max_line_bytes - len(self._buf)
        if len(piece) > room:
            if room > 0:
                self._buf += piece[:room]
            self._overflow = True
            self._too_long(self._line_start, bytes(self._buf[:EXCERPT]))
        else:
            self._buf += piece

    def _take(self) -> tuple[bytes, int]:
        """The assembled line (at most max_line_bytes kept) and its full length."""
        line = bytes(self._buf)
        full = self._frag_total
        if self._overflow:
            line = _trim_utf8_tail(line)
        self._buf = bytearray()
        self._frag_total = 0
        self._overflow = False
        return line, full

    def _check_long(self, line: bytes, start: int, full: int) -> bytes:
        """Track the longest line; cut a line beyond max_line_bytes (already cut if assembled)."""
        if full > self.longest_line:
            self.longest_line = full
        if len(line) > self.max_line_bytes:
            self._too_long(start, line[: min(EXCERPT, self.max_line_bytes)])
            line = _trim_utf8_tail(line[: self.max_line_bytes])
        self._threshold = min(self.longest_line, self.max_line_bytes)
        return line

    def _too_long(self, start: int, excerpt: bytes) -> None:
        self._observe(
            ObservationKind.LINE_TOO_LONG,
            start,
            excerpt,
            f"a line is longer than {self.max_line_bytes} bytes: only its first "
            f"{self.max_line_bytes} bytes are interpreted",
        )

    # ------------------------------------------------------------------ interpretation

    def _line(self, line: bytes, start: int) -> None:
        """ "Lines must be processed, in the order they are received, as follows:" """
        if not line:
            # "If the line is empty (a blank line): Dispatch the event, as defined below."
            self._dispatch(start)
            return
        if self._block_start < 0:
            self._block_start = start
        if line[0] == 0x3A:
            # "If the line starts with a U+003A COLON character (:): Ignore the line."
            self.comments += 1
            if not line.isascii():
                self._text(
                    line, start
                )  # still UTF-8: "Event streams ... must always be encoded as UTF-8"
            return
        if self._field_start < 0:
            self._field_start = start
            self._field_line = line
        colon = line.find(b":")
        if colon >= 0:
            # "Collect the characters on the line before the first U+003A COLON character (:),
            # and let field be that string."
            name = line[:colon]
            # "Collect the characters on the line after the first U+003A COLON character (:),
            # and let value be that string. If value starts with a U+0020 SPACE character,
            # remove it from value."
            vstart = colon + 1
            if vstart < len(line) and line[vstart] == 0x20:
                vstart += 1
            value = line[vstart:]
        else:
            # "Otherwise, the string is not empty but does not contain a U+003A COLON character
            # (:): Process the field using the steps described below, using the whole line as
            # the field name, and the empty string as the field value."
            name, value, vstart = line, b"", len(line)
        # "Field names must be compared literally, with no case folding performed."
        # (Comparing bytes is exact: a name with an invalid byte decodes to U+FFFD, which
        # matches none of the four names, and neither do its bytes.)
        if name == b"data":
            # "Append the field value to the data buffer, then append a single U+000A LINE FEED
            # (LF) character to the data buffer."
            self._data.append(self._text(value, start + vstart) if value else "")
            if colon < 0:
                self._no_colon(line, start)
        elif name == b"event":
            # "Set the event type buffer to field value."
            self._event_type = self._text(value, start + vstart) if value else ""
            self._block_fields += 1
            if colon < 0:
                self._no_colon(line, start)
        elif name == b"id":
            # "If the field value does not contain U+0000 NULL, then set the last event ID
            # buffer to the field value. Otherwise, ignore the field."
            self._block_fields += 1
            text = self._text(value, start + vstart) if value else ""
            if "\x00" in text:
                self._observe(
                    ObservationKind.NUL_ID,
                    start,
                    line[:EXCERPT],
                    "an id containing U+0000 NULL is ignored: the last event ID is unchanged",
                )
            else:
                self.last_event_id_buffer = text
            if colon < 0:
                self._no_colon(line, start)
        elif name == b"retry":
            self._block_fields += 1
            self._retry(value, line, start, vstart)
            if colon < 0:
                self._no_colon(line, start)
        else:
            # "Otherwise: The field is ignored."
            self._block_fields += 1
            text = self._text(line, start)  # the whole line is checked for UTF-8 once
            name_text = text if colon < 0 else text[: text.index(":")]
            if len(self.unknown_fields) < MAX_UNKNOWN_NAMES or name_text in self.unknown_fields:
                self.unknown_fields[name_text] = self.unknown_fields.get(name_text, 0) + 1
            if colon < 0:
                self._no_colon(line, start)
            else:
                self._observe(
                    ObservationKind.UNKNOWN_FIELD,
                    start,
                    line[:EXCERPT],
                    f"unknown field {name_text[:40]!r} is ignored",
                )

    def _no_colon(self, line: bytes, start: int) -> None:
        name = line.decode("utf-8", "replace")
        known = name in ("data", "event", "id", "retry")
        self._observe(
            ObservationKind.NO_COLON,
            start,
            line[:EXCERPT],
            f"a line without a colon is the field name {name[:40]!r} with an empty value"
            + ("" if known else " (an unknown field: ignored)"),
        )

    def _retry(self, value: bytes, line: bytes, start: int, vstart: int) -> None:
        # "If the field value consists of only ASCII digits, then interpret the field value as
        # an integer in base ten, and set the event stream's reconnection time to that
        # integer. Otherwise, ignore the field."  (bytes.isdigit() is ASCII-only.)
        if value.isdigit():
            digits = value.lstrip(b"0") or b"0"
            if len(digits) <= _MAX_RETRY_DIGITS:
                self.retry = int(digits)
                return
            detail = f"retry value of {len(digits)} digits is too large to interpret here: ignored"
            self._observe(ObservationKind.BAD_RETRY, start, line[:EXCERPT], detail)
            return
        if not value:
            self._observe(
                ObservationKind.EMPTY_RETRY,
                start,
                line[:EXCERPT],
                "an empty retry field is ignored by the spec, but Chromium resets the "
                "reconnection delay to its default",
            )
            return
        text = self._text(value, start + vstart)
        self._observe(
            ObservationKind.BAD_RETRY,
            start,
            line[:EXCERPT],
            f"retry value {text[:40]!r} is not all ASCII digits: ignored",
        )

    def _text(self, raw: bytes, offset: int) -> str:
        """ "Streams must be decoded using the UTF-8 decode algorithm": invalid bytes become
        U+FFFD (Python's replacement follows the same maximal-subpart rule)."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "replace")
            bad = offset + exc.start
            genuine = raw.decode("utf-8", "ignore").count("\ufffd")  # U+FFFD sent as such
            replaced = text.count("\ufffd") - genuine
            self._observe(
                ObservationKind.INVALID_UTF8,
                bad,
                raw[exc.start : exc.start + EXCERPT],
                f"invalid UTF-8 at byte {bad}: {replaced} sequence(s) on this line become U+FFFD",
            )
            return text

    def _dispatch(self, start: int) -> None:
        # "1. Set the last event ID string of the event source to the value of the last event
        # ID buffer. The buffer does not get reset, so the last event ID string of the event
        # source remains set to this value until the next time it is set by the server."
        self.last_event_id = self.last_event_id_buffer
        block_start = self._block_start
        field_start, field_line, fields = self._field_start, self._field_line, self._block_fields
        self._block_start = self._field_start = -1
        self._field_line = b""
        self._block_fields = 0
        if not self._data:
            # "2. If the data buffer is an empty string, set the data buffer and the event type
            # buffer to the empty string and return."
            self._event_type = ""
            if fields:
                self._observe(
                    ObservationKind.NO_DATA_BLOCK,
                    field_start,
                    field_line[:EXCERPT],
                    "a block with fields but no data line: browsers dispatch nothing for it",
                )
            return
        # "3. If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        # remove the last character from the data buffer."
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        # "5. Initialize event's type attribute to "message" ... 6. If the event type buffer has
        # a value other than the empty string, change the type of the newly created event to
        # equal the value of the event type buffer."
        event = _make_event(
            self._event_type or "message", data, self.last_event_id, block_start, start + 1
        )
        # "7. Set the data buffer and the event type buffer to the empty string."
        self._data = []
        self._event_type = ""
        self.events_dispatched += 1
        self._out.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def _observe(self, kind: ObservationKind, offset: int, excerpt: bytes, detail: str) -> None:
        self.observation_counts[kind] = self.observation_counts.get(kind, 0) + 1
        if len(self.observations) >= self.max_observations:
            self.observations_dropped += 1
            return
        obs = Observation(kind, offset, excerpt, detail)
        self.observations.append(obs)
        if self.on_observation is not None:
            self.on_observation(obs)


def _trim_utf8_tail(raw: bytes) -> bytes:
    """Drop a multi-byte sequence that a cut left incomplete (it was complete in the stream)."""
    for back in range(1, min(4, len(raw)) + 1):
        byte = raw[-back]
        if byte < 0x80:
            return raw
        if byte >= 0xC0:
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return raw[:-back] if need > back else raw
    return raw


def parse_all(
    data: bytes, *, max_line_bytes: int = 1 << 20, max_observations: int = 1000
) -> tuple[list[Event], Parser]:
    """Parse a whole captured stream (then close it): the events and the parser's findings."""
    parser = Parser(max_line_bytes=max_line_bytes, max_observations=max_observations)
    events = parser.feed(data)
    parser.close()
    return events, parser
