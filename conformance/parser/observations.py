"""What the parser notes besides events: things a browser tolerates silently but an author
probably did not mean, each with the raw byte offset of its evidence, kept in a bounded log.

A hostile or broken stream can produce an observation per line, so the log keeps the first
``limit`` of them and only counts the rest (``dropped``, and per kind in ``counts``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

EXCERPT = 64  # bytes of raw evidence kept per observation


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
    NO_DATA_BLOCK = "no-data-block"  # a data-less block whose event type goes unused
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


ObservationCallback = Callable[[Observation], None]


class ObservationLog:
    """The first ``limit`` observations of a stream, and a count of every one by kind."""

    __slots__ = ("counts", "dropped", "items", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[Observation] = []
        self.dropped = 0  # observations beyond the limit: counted, not kept
        self.counts: dict[ObservationKind, int] = {}  # kind -> count, dropped ones included

    def record(
        self, kind: ObservationKind, offset: int, excerpt: bytes, detail: str
    ) -> Observation | None:
        """Count one observation; keep it and return it unless the log is full (then None).
        Never raises."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self.items) >= self.limit:
            self.dropped += 1
            return None
        obs = Observation(kind, offset, excerpt, detail)
        self.items.append(obs)
        return obs
