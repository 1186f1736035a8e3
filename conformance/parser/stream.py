"""Parsing an event stream (WHATWG HTML 9.2): bytes in, lines out, each handed to the field
rules of :class:`~conformance.parser.interpret.Interpreter`, which :class:`Parser` extends.

This module holds what happens before a line is interpreted: the leading BOM, the three line
endings (a CR ending a chunk may be half a CRLF), lines split across chunks
(:class:`~conformance.parser.line_buffer.LineBuffer`), over-long lines, and the fast paths for
chunks with one line-ending style. See :mod:`conformance.parser` for the design notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from conformance.parser.blocks import run_blocks
from conformance.parser.columns import run_columns
from conformance.parser.interpret import Event, EventCallback, EventDraft, Interpreter
from conformance.parser.line_buffer import LineBuffer, trim_utf8_tail
from conformance.parser.observations import EXCERPT, ObservationCallback, ObservationKind

BOM = b"\xef\xbb\xbf"

# The column path pays for itself only on chunks of many blocks: measured on chunks of one
# ``id``/``data`` block, it costs about twice the block path (5.8 against 2.8 µs a chunk), the
# two are even at about 16 blocks. A capture reads 64 KiB chunks (hundreds of blocks), a load
# client one event per read: the chunk decides. The shortest block it takes is ``data:`` LF LF.
COLUMN_MIN_BLOCKS = 16
_SHORTEST_BLOCK = len("data:\n\n")


class Parser(Interpreter):
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

    # Tests turn these off to prove the fast paths and the general path agree.
    _fast_path = True
    _block_path = True  # conformance.parser.blocks: whole common blocks at a time
    _column_path = True  # conformance.parser.columns: whole chunks of one block shape
    _column_min_blocks = COLUMN_MIN_BLOCKS  # ... of at least this many blocks

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
        """Forget everything; ready for a new stream. Never raises."""
        self._reset_interpretation()
        self.line_endings: dict[str, int] = {"LF": 0, "CRLF": 0, "CR": 0}
        self.first_line_ending: dict[str, int] = {}
        self.bytes_fed = 0
        self.longest_line = 0
        self.bom = False
        self.closed = False
        # stream start: up to two bytes held back while they might still begin a BOM
        self._started = False
        self._head = b""
        self._bom_check = False  # BOM stripped, first line ending not seen yet
        # line assembly
        self._pos = 0  # raw offset of the first byte of the chunk being processed
        self._line_start = 0  # raw offset of the line being assembled
        self._partial = LineBuffer(self.max_line_bytes)  # the line not yet terminated
        self._cr_at = -1  # raw offset of a CR that ended the previous chunk's last line
        self._threshold = 0  # a line longer than this needs a look (longest_line, limit)

    @property
    def buffered_bytes(self) -> int:
        """Bytes held for a line not yet terminated: never more than max_line_bytes + 2.
        Never raises."""
        return len(self._partial.kept) + len(self._head)

    @property
    def pending(self) -> bool:
        """Would ending the stream now discard something (an event being built, a field line
        not yet terminated)?  What close() reports as TRAILING_PARTIAL; comments don't count.
        Never raises."""
        return bool(self._data) or self._block_fields > 0 or self._partial_line()

    def _partial_line(self) -> bool:
        if self._partial.total > 0:
            return not self._partial.kept.startswith(b":")
        # a line held back while it might still start with a BOM ("\xef", "\xef\xbb")
        return bool(self._head)

    def feed(self, data: bytes) -> list[Event]:
        """Parse more bytes; return the events dispatched by them, in order.
        Raises RuntimeError after close() (reset() first); never for any bytes."""
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
        """End of stream: pending data is discarded (recorded as TRAILING_PARTIAL if any).
        Never raises."""
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
        partial_line = self._partial
        self.longest_line = max(self.longest_line, partial_line.total)  # the cut-off line counts
        if partial_line.kept and not partial_line.kept.isascii():
            # the unterminated last line is discarded, but its bytes were still sent as UTF-8
            kept = bytes(partial_line.kept)
            self._text(trim_utf8_tail(kept) if partial_line.overflow else kept, self._line_start)
        partial = self._partial_line()
        pending = bool(self._data) or self._block_fields > 0
        if pending or partial:
            if pending:
                offset, excerpt = self._field_start, self._field_line[:EXCERPT]
            else:
                offset, excerpt = self._line_start, bytes(partial_line.kept[:EXCERPT])
            what = []
            if self._data:
                what.append(f"{len(self._data)} data line(s)")
            if self._block_fields:
                what.append(f"{self._block_fields} other field line(s)")
            if partial:
                what.append(f"an unterminated line of {partial_line.total} bytes")
            self._observe(
                ObservationKind.TRAILING_PARTIAL,
                offset,
                excerpt,
                "stream ended before the blank line that would dispatch the last event: "
                + ", ".join(what)
                + " discarded",
            )
        partial_line.clear()

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
        """Fast path: every line ending in this chunk is ``sep`` (none is a CR at its end).

        An all-ASCII LF chunk goes block by block where it can: the block in progress is
        finished line by line up to its blank line, then whole blocks are taken, all at once if
        they have one shape (:mod:`conformance.parser.columns`), else the common ones one by one
        (:mod:`conformance.parser.blocks`), then the rest of the chunk goes line by line."""
        if style == "LF" and self._block_path and not self._bom_check and data.isascii():
            if not self._block_clean():
                end = data.find(b"\n\n")
                if end < 0:
                    self._split_lines(data, sep, style)
                    return
                self._split_lines(data[: end + 2], sep, style)
                data = data[end + 2 :]
            if data[:1] == b"\n" and self._block_clean():
                data = self._skip_blank_run(data)
            if data and self._block_clean():
                text = data.decode("ascii")
                taken = 0
                least = self._column_min_blocks
                if (
                    self._column_path
                    and self.on_event is None
                    and len(text) >= least * _SHORTEST_BLOCK
                    and text.count("\n\n") >= least
                ):
                    taken = run_columns(self, text)
                if not taken:
                    taken = run_blocks(self, text)
                if taken:
                    self.line_endings[style] += data.count(sep, 0, taken)
                    if style not in self.first_line_ending:
                        self.first_line_ending[style] = self._pos + data.index(sep)
                    self._pos += taken
                    self._line_start = self._pos
                    data = data[taken:]
            if not data:
                return
        self._split_lines(data, sep, style)

    def _skip_blank_run(self, data: bytes) -> bytes:
        """Take the LF blank lines at the start of ``data`` at once; return the rest.

        Called only where a block may start (:meth:`_block_clean`): there a blank line
        dispatches nothing (the spec's step 1 copies the id buffer, then the empty data buffer
        returns), so a run of them is one such step plus its line count. Without this, a body of
        blank lines (a gzip bomb of newlines) costs a Python loop turn per line."""
        rest = data.lstrip(b"\n")
        count = len(data) - len(rest)
        self.last_event_id = self.last_event_id_buffer
        self.line_endings["LF"] += count
        self.first_line_ending.setdefault("LF", self._pos)
        self._pos += count
        self._line_start = self._pos
        return rest

    def _block_clean(self) -> bool:
        """No line pending, no block in progress: where a block may start."""
        return (
            not self._partial.total
            and not self._data
            and not self._block_fields
            and self._block_start < 0
            and not self._event_type
        )

    def _split_lines(self, data: bytes, sep: bytes, style: str) -> None:
        """:meth:`_feed_split` line by line."""
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
            if self._partial.total:
                first = parts[0]
                start = self._line_start
                nxt = start + self._partial.total + len(first) + step
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
        # Any: the draft becomes an Event at its __class__ assignment
        draft: Callable[[], Any] = EventDraft
        event_class = Event
        for line in lines:
            n = len(line)
            if not n:
                if values:  # a blank line after data: dispatch (see _dispatch for the spec)
                    last_id = id_buffer
                    event = draft()  # make_event, inlined
                    event.type = event_type or "message"
                    event.data = values[0] if len(values) == 1 else "\n".join(values)
                    event.last_event_id = last_id
                    event.offset = block_start
                    event.end = start + 1
                    event.__class__ = event_class
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
            if self._partial.total:
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
        if self._partial.append(piece):
            self._too_long(self._line_start, bytes(self._partial.kept[:EXCERPT]))

    def _take(self) -> tuple[bytes, int]:
        """The assembled line (at most max_line_bytes kept) and its full length."""
        return self._partial.take()

    def _check_long(self, line: bytes, start: int, full: int) -> bytes:
        """Track the longest line; cut a line beyond max_line_bytes (already cut if assembled)."""
        if full > self.longest_line:
            self.longest_line = full
        if len(line) > self.max_line_bytes:
            self._too_long(start, line[: min(EXCERPT, self.max_line_bytes)])
            line = trim_utf8_tail(line[: self.max_line_bytes])
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


def parse_all(
    data: bytes, *, max_line_bytes: int = 1 << 20, max_observations: int = 1000
) -> tuple[list[Event], Parser]:
    """Parse a whole captured stream (then close it): the events and the parser's findings.

    Raises ValueError when ``max_line_bytes`` is below 1."""
    parser = Parser(max_line_bytes=max_line_bytes, max_observations=max_observations)
    events = parser.feed(data)
    parser.close()
    return events, parser
