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

Where each part lives:

- :mod:`conformance.parser.stream`: :class:`Parser`, bytes to lines (BOM, line endings, fast
  paths, the hot loop) and :func:`parse_all`;
- :mod:`conformance.parser.interpret`: :class:`Event` and the field rules (a line in, the
  buffers updated, an event out on a blank line), the base class of :class:`Parser`;
- :mod:`conformance.parser.columns` and :mod:`conformance.parser.blocks`: the fast paths for
  LF chunks of whole common blocks (one shape throughout, or block by block);
- :mod:`conformance.parser.line_buffer`: the bounded buffer of the line not yet terminated;
- :mod:`conformance.parser.observations`: :class:`ObservationKind`, :class:`Observation` and
  the bounded log that keeps them.
"""

from conformance.evidence import escape_excerpt
from conformance.parser.interpret import Event
from conformance.parser.observations import BENIGN_KINDS, Observation, ObservationKind
from conformance.parser.stream import Parser, parse_all

__all__ = [
    "BENIGN_KINDS",
    "Event",
    "Observation",
    "ObservationKind",
    "Parser",
    "escape_excerpt",
    "parse_all",
]
