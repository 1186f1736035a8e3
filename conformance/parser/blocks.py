"""The fast path of :class:`~conformance.parser.stream.Parser` for the commonest block shape.

Profiled on 50 MB of reference-like events (``id: N`` / ``data: "..."`` / blank line, LF only)
in 64 KiB chunks: splitting lines and building each Event cost little; most of the time went to
taking every line through the interpreted per-line rules (length, first byte, ``startswith``,
slice, decode, bookkeeping), three lines per event. Here an all-ASCII chunk is decoded once and
cut at its blank lines (``str.split("\\n\\n")``, in C), and a block of the shape ``[id: V LF]
data: V`` is dispatched with one ``partition``: Python runs once per event instead of once per
line, and values are plain slices (ASCII is valid UTF-8, one byte per character, so raw
offsets are unchanged).

It only runs where the line-by-line rules do exactly the same: LF endings, no block in
progress, no BOM decision pending; a line longer than ``max_line_bytes`` (cut, with an
observation) and the first block of any other shape end it: that block and the rest of the
chunk go line by line. A line longer than any before updates ``longest_line`` as the line
path does.
Tests run every vector and generated stream through this path, the line path and the general
one, and compare events, offsets and observations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.parser.interpret import Event, EventDraft


def run_blocks(parser: Any, text: str) -> int:
    """Dispatch the common blocks at the start of ``text`` (an ASCII chunk, LF only, no block
    in progress); return how many characters (= bytes) they took. ``parser`` is the
    :class:`~conformance.parser.stream.Parser` (not imported: it imports this). Never raises."""
    blocks = text.split("\n\n")
    blocks.pop()  # what follows the last blank line: not a whole block
    if not blocks:
        return 0
    nul = "\0" in text  # rare: then each id line is checked for one
    threshold = parser._threshold
    limit = parser.max_line_bytes
    out = parser._out
    on_event = parser.on_event
    id_buffer = parser.last_event_id_buffer
    base = parser._pos
    # Any: the draft becomes an Event at its __class__ assignment
    draft: Callable[[], Any] = EventDraft
    event_class = Event
    taken = 0
    dispatched = 0
    for block in blocks:
        head, newline, line = block.partition("\n")
        if newline:
            # "id:" and one space at most, no NUL ("If the field value does not contain
            # U+0000 NULL, then set the last event ID buffer"), then exactly one data line
            if not head.startswith("id:") or "\n" in line or (nul and "\0" in head):
                break
            value = head[4:] if head[3:4] == " " else head[3:]
            size = len(head)
            if size > threshold:  # a new longest line: what _check_long records
                if size > limit:
                    break
                threshold = parser.longest_line = parser._threshold = size
        else:
            line = head
            value = None
        size = len(line)
        if not line.startswith("data:"):
            break
        if size > threshold:
            if size > limit:
                break  # over-long lines are cut, with an observation, by the line path
            threshold = parser.longest_line = parser._threshold = size
        if value is not None:
            id_buffer = value
        event = draft()  # make_event, inlined
        event.type = "message"
        event.data = line[6:] if line[5:6] == " " else line[5:]
        event.last_event_id = id_buffer
        event.offset = base + taken
        taken += len(block) + 2
        event.end = base + taken
        event.__class__ = event_class
        dispatched += 1
        out.append(event)
        if on_event is not None:
            parser.last_event_id_buffer = parser.last_event_id = id_buffer
            on_event(event)
    if dispatched:
        parser.last_event_id_buffer = parser.last_event_id = id_buffer
        parser.events_dispatched += dispatched
    return taken
