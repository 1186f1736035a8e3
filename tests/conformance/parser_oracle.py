"""A naive, independent reading of the spec to check the parser against, and ways to feed it.

``oracle`` and ``oracle_observations`` decode a whole stream at once (no chunking, no fast path);
``feed_chunks`` and ``snapshot`` run the real :class:`~conformance.parser.Parser` and capture
everything observable about the result, so tests can compare any two ways of feeding it.
"""

from __future__ import annotations

import itertools
import re

from conformance.parser import Event, ObservationKind, Parser

K = ObservationKind

Snapshot = tuple[object, ...]


def feed_chunks(
    chunks: list[bytes], *, max_line_bytes: int = 1 << 20
) -> tuple[list[Event], Parser]:
    parser = Parser(max_line_bytes=max_line_bytes)
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    parser.close()
    return events, parser


def snapshot(events: list[Event], parser: Parser) -> Snapshot:
    """Everything observable about a finished parse."""
    return (
        events,
        parser.observations,
        parser.observations_dropped,
        parser.observation_counts,
        parser.line_endings,
        parser.first_line_ending,
        parser.comments,
        parser.retry,
        parser.last_event_id,
        parser.last_event_id_buffer,
        parser.bytes_fed,
        parser.longest_line,
        parser.unknown_fields,
        parser.bom,
        parser.events_dispatched,
    )


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def oracle(stream: bytes) -> tuple[list[tuple[str, str, str]], str, int | None]:
    """A deliberately naive, independent reading of the spec: decode everything, then lines."""
    text = stream.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    lines = re.split("\r\n|\r|\n", text)
    lines.pop()  # the unterminated remainder: "any pending data must be discarded"
    data = etype = idbuf = last_id = ""
    retry: int | None = None
    out: list[tuple[str, str, str]] = []
    for line in lines:
        if line == "":
            last_id = idbuf
            if data == "":
                etype = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            out.append((etype or "message", data, last_id))
            data = etype = ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            etype = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\0" not in value:
                idbuf = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return out, last_id, retry


def oracle_observations(stream: bytes) -> dict[ObservationKind, int]:
    """An independent count of what the parser should observe, line by line on raw bytes."""
    counts: dict[ObservationKind, int] = {}

    def seen(kind: ObservationKind) -> None:
        counts[kind] = counts.get(kind, 0) + 1

    bom = stream.startswith(b"\xef\xbb\xbf")
    if bom:
        seen(K.BOM)
        stream = stream[3:]
        if stream[:1] == b"\n" or (stream[:1] == b"\r" and stream[1:2] != b"\n"):
            seen(K.BOM_BARE_LINE_END)
    raw_lines = re.split(b"\r\n|\r|\n", stream)
    rest = raw_lines.pop()
    has_data = False
    fields = 0
    event_type = b""  # a data-less block warns only when it leaves an event type unused
    for raw in raw_lines:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            seen(K.INVALID_UTF8)
        if raw == b"":
            if not has_data and event_type:
                seen(K.NO_DATA_BLOCK)
            has_data, fields, event_type = False, 0, b""
            continue
        if raw.startswith(b":"):
            continue
        name, colon, value = raw.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if not colon:
            seen(K.NO_COLON)
        if name == b"data":
            has_data = True
            continue
        fields += 1
        if name == b"retry":
            if not value:
                seen(K.EMPTY_RETRY)
            elif not all(48 <= b <= 57 for b in value):
                seen(K.BAD_RETRY)
        elif name == b"id":
            if b"\x00" in value:
                seen(K.NUL_ID)
        elif name == b"event":
            event_type = value
        elif colon:
            seen(K.UNKNOWN_FIELD)
    try:
        rest.decode("utf-8")
    except UnicodeDecodeError:
        seen(K.INVALID_UTF8)
    if has_data or fields or (rest and not rest.startswith(b":")):
        seen(K.TRAILING_PARTIAL)
    return counts
