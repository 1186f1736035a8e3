"""Sans-IO parser for ``text/event-stream`` (WHATWG HTML, "Parsing an event stream").

CONTRACT STUB: the types and signatures below are fixed; the implementation is being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ObservationKind(StrEnum):
    """Things a browser tolerates silently but an author probably did not mean."""

    BOM = "bom"  # a leading U+FEFF was stripped (valid)
    BOM_BARE_LINE_END = "bom-bare-line-end"  # BOM then LF or lone CR: Chromium drops the first block
    INVALID_UTF8 = "invalid-utf8"  # bytes decoded to U+FFFD
    UNKNOWN_FIELD = "unknown-field"  # a field name other than event/data/id/retry (ignored)
    NO_COLON = "no-colon"  # a line without a colon: the whole line is a field name
    BAD_RETRY = "bad-retry"  # retry value not all ASCII digits (ignored)
    EMPTY_RETRY = "empty-retry"  # retry with an empty value (spec: ignored; Chromium: resets delay)
    NUL_ID = "nul-id"  # id containing U+0000 (ignored)
    NO_DATA_BLOCK = "no-data-block"  # a block with fields but no data: nothing dispatched
    TRAILING_PARTIAL = "trailing-partial"  # the stream ended inside an event: it is discarded
    LINE_TOO_LONG = "line-too-long"  # a line exceeded max_line_bytes: rest of the line dropped


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
    end: int  # raw byte offset just past the blank line that dispatched it


class Parser:
    """Bytes in, events and observations out. No sockets, no clocks.

    Attributes readable at any time: ``observations`` (list[Observation], capped at
    ``max_observations`` with ``observations_dropped`` counting the rest), ``line_endings``
    (dict "LF"/"CRLF"/"CR" -> count), ``first_line_ending`` (dict style -> raw offset of its
    first use), ``comments`` (count of comment lines), ``retry`` (last valid reconnection time
    in ms, or None), ``last_event_id`` (str), ``bytes_fed`` (int), ``longest_line`` (int bytes).
    """

    def __init__(self, *, max_line_bytes: int = 1 << 20, max_observations: int = 1000) -> None:
        raise NotImplementedError

    def feed(self, data: bytes) -> list[Event]:
        """Parse more bytes; return the events dispatched by them, in order."""
        raise NotImplementedError

    def close(self) -> None:
        """End of stream: pending data is discarded (recorded as TRAILING_PARTIAL if any)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget everything; ready for a new stream."""
        raise NotImplementedError
