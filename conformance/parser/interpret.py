"""Interpreting an event stream (WHATWG HTML 9.2): one line at a time, into the data, event
type and last event ID buffers, and out as a dispatched :class:`Event` on a blank line.

This is the half of :class:`~conformance.parser.stream.Parser` that knows the field rules;
the parser (line splitting, the BOM, line endings, long lines) subclasses :class:`Interpreter`,
and its hot loop inlines the common cases of :meth:`Interpreter._line` by the same rules (tests
compare both paths on every vector and on generated streams).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.parser.observations import (
    EXCERPT,
    Observation,
    ObservationCallback,
    ObservationKind,
    ObservationLog,
)
from conformance.reprs import clipped

# distinct unknown field names remembered (a hostile stream can send millions)
MAX_UNKNOWN_NAMES = 100
_MAX_RETRY_DIGITS = 4000  # Python refuses int() on longer decimal strings


@dataclass(frozen=True, slots=True, repr=False)
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

    def __repr__(self) -> str:
        return (
            f"Event(type={clipped(self.type)}, data={clipped(self.data)}, "
            f"last_event_id={clipped(self.last_event_id)}, offset={self.offset}, end={self.end})"
        )


class EventDraft:
    """An :class:`Event` being built: the same slots, but not frozen.

    Why: a frozen dataclass's __init__ sets each field through ``object.__setattr__``, and even
    the slot descriptors' ``__set__`` is a call per field; five plain attribute stores on this
    class are a specialised STORE_ATTR each.  Assigning ``__class__ = Event`` then makes it the
    very Event (allowed: same base, same slots), frozen from then on.  Measured in a loop of
    800 events, building one went from about 0.5 µs to 0.2-0.3 µs: the largest cost per event
    left on the fast paths.  Only the parser's hot loops use it, each event finished at once.
    """

    __slots__ = Event.__slots__
    type: str
    data: str
    last_event_id: str
    offset: int
    end: int


def make_event(type_: str, data: str, last_event_id: str, offset: int, end: int) -> Event:
    """``Event(...)`` about five times faster (see :class:`EventDraft`): the same object,
    same eq/hash. Never raises."""
    event: Any = EventDraft()  # an Event from its __class__ assignment on
    event.type = type_
    event.data = data
    event.last_event_id = last_event_id
    event.offset = offset
    event.end = end
    event.__class__ = Event
    return event  # type: ignore[no-any-return]


EventCallback = Callable[[Event], None]


class Interpreter:
    """The interpretation state of one stream and the rules that change it (no line splitting).

    Readable at any time: ``observations`` (capped at ``max_observations``, with
    ``observations_dropped`` counting the rest and ``observation_counts`` every one by kind),
    ``unknown_fields`` (name -> count, at most MAX_UNKNOWN_NAMES names), ``comments``, ``retry``
    (last valid reconnection time in ms, or None), ``last_event_id``, ``last_event_id_buffer``
    (which an unterminated block may have changed without dispatching), ``events_dispatched``.
    """

    max_observations: int
    on_event: EventCallback | None
    on_observation: ObservationCallback | None

    def _reset_interpretation(self) -> None:
        self._log = ObservationLog(self.max_observations)
        self.unknown_fields: dict[str, int] = {}
        self.comments = 0
        self.retry: int | None = None
        # "When a stream is parsed, a data buffer, an event type buffer, and a last event ID
        # buffer must be associated with it. They must be initialized to the empty string."
        self.last_event_id = ""  # the EventSource's "last event ID string" (set at dispatch)
        self.last_event_id_buffer = ""
        self._data: list[str] = []  # values of the data buffer: buffer == "".join(v + "\n")
        self._event_type = ""
        self.events_dispatched = 0
        self._out: list[Event] = []  # events dispatched by the current feed()
        # block tracking (lines since the last blank line)
        self._block_start = -1
        self._field_start = -1  # first non-comment line of the block
        self._field_line = b""  # the first field line of the block (for evidence)
        self._block_fields = 0  # non-data field lines in the block

    @property
    def observations(self) -> list[Observation]:
        """The observations kept so far, in stream order. Never raises."""
        return self._log.items

    @property
    def observations_dropped(self) -> int:
        """Observations beyond ``max_observations``: counted, not kept. Never raises."""
        return self._log.dropped

    @property
    def observation_counts(self) -> dict[ObservationKind, int]:
        """Every observation so far by kind, dropped ones included. Never raises."""
        return self._log.counts

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
            # Only the event type goes unused: an id has already set the last event ID (step 1;
            # Chromium too, on every blank line) and a retry took effect when its line was
            # parsed, so id-only and retry-only blocks do what their author meant.
            unused, self._event_type = self._event_type, ""
            if fields and unused:
                self._observe(
                    ObservationKind.NO_DATA_BLOCK,
                    field_start,
                    field_line[:EXCERPT],
                    f"a block with event: {unused[:40]!r} but no data line: browsers dispatch "
                    "nothing for it, so its event type is never used",
                )
            return
        # "3. If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        # remove the last character from the data buffer."
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        # "5. Initialize event's type attribute to "message" ... 6. If the event type buffer has
        # a value other than the empty string, change the type of the newly created event to
        # equal the value of the event type buffer."
        event = make_event(
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
        obs = self._log.record(kind, offset, excerpt, detail)
        if obs is not None and self.on_observation is not None:
            self.on_observation(obs)
