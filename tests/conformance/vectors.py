"""Test vectors for the parser: the web-platform-tests ``eventsource/format-*`` cases and the
examples of the WHATWG HTML "Server-sent events" section, plus edge cases the spec implies.

Each WPT case is rebuilt from its test file: the page opens ``resources/message.py?message=M``
whose body is ``M + "\\n\\n" + "\\n"`` (``M + "\\n"`` with ``&newline=none``), or one of the
``last-event-id*.py`` resources whose bodies are quoted below.  ``expected`` lists what the
page's listeners assert (type, data, lastEventId), in order.

``anomalies`` is the exact set of observation kinds the vector must produce; the benign BOM
observation is listed too, so a valid stream has ``anomalies`` equal to {} or {BOM}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.parser import ObservationKind as K

Expected = tuple[str, str, str]  # (type, data, last_event_id)


@dataclass(frozen=True)
class Vector:
    name: str
    source: str  # where the case comes from
    stream: bytes
    expected: tuple[Expected, ...]
    anomalies: frozenset[K] = field(default_factory=frozenset)
    last_event_id: str | None = None  # the source's last event ID string at the end, if asserted
    retry: int | None = None
    line_endings: dict[str, int] | None = None  # exact counts, if asserted
    comments: int | None = None


def message_py(message: bytes, *, newline: bool = True) -> bytes:
    """The body of WPT eventsource/resources/message.py for ``?message=...``."""
    return message + (b"\n\n" if newline else b"") + b"\n"


def msg(data: str, last_event_id: str = "", type_: str = "message") -> Expected:
    return (type_, data, last_event_id)


ELLIPSIS = "\u2026"
LONG = b"x" * 2048  # format-comments: "cannot make the string too long; causes timeout"

# resources/last-event-id.py (no Last-Event-ID request header yet): idvalue defaults to U+2026
LAST_EVENT_ID_PY = b"id: \xe2\x80\xa6\nretry: 200\ndata: hello\n\n"

WPT: list[Vector] = [
    Vector(
        "format-bom",
        "wpt eventsource/format-bom.any.js: the second BOM is content, so 'data:2' is not data",
        message_py(b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\ndata:3"),
        (msg("1"), msg("3")),
        frozenset({K.BOM, K.UNKNOWN_FIELD}),
    ),
    Vector(
        "format-bom-2",
        "wpt eventsource/format-bom-2.any.js: only one leading BOM is stripped",
        message_py(b"\xef\xbb\xbf\xef\xbb\xbfdata:1\n\ndata:2\n\ndata:3"),
        (msg("2"), msg("3")),
        frozenset({K.BOM, K.UNKNOWN_FIELD}),
    ),
    Vector(
        "format-comments",
        "wpt eventsource/format-comments.any.js: comments with CR, LF, CRLF, NUL, long lines",
        message_py(
            b"data:1\r:\x00\n:\r\ndata:2\n:"
            + LONG
            + b"\rdata:3\n:data:fail\r:"
            + LONG
            + b"\ndata:4\n",
            newline=False,
        ),
        (msg("1\n2\n3\n4"),),
        comments=5,
        line_endings={"LF": 6, "CRLF": 1, "CR": 3},
    ),
    Vector(
        "format-data-before-final-empty-line",
        "wpt eventsource/format-data-before-final-empty-line.any.js: the unterminated last "
        "block is discarded, its id included",
        message_py(b"retry:1000\ndata:test1\n\nid:test\ndata:test2", newline=False),
        (msg("test1"),),
        frozenset({K.TRAILING_PARTIAL}),
        last_event_id="",
        retry=1000,
    ),
    Vector(
        "format-field-data",
        "wpt eventsource/format-field-data.any.js: 'data:' gives '', two bare 'data' give LF",
        message_py(b"data:\n\ndata\ndata\n\ndata:test"),
        (msg(""), msg("\n"), msg("test")),
        frozenset({K.NO_COLON}),
    ),
    Vector(
        "format-field-event",
        "wpt eventsource/format-field-event.any.js: the event type applies to one event only",
        message_py(b"event:test\ndata:x\n\ndata:x"),
        (msg("x", type_="test"), msg("x")),
    ),
    Vector(
        "format-field-event-empty",
        "wpt eventsource/format-field-event-empty.any.js: an empty event type means 'message'",
        message_py(b"event: \ndata:data"),
        (msg("data"),),
    ),
    Vector(
        "format-field-id",
        "wpt eventsource/format-field-id.any.js + resources/last-event-id.py (first response)",
        LAST_EVENT_ID_PY,
        (msg("hello", ELLIPSIS),),
        last_event_id=ELLIPSIS,
        retry=200,
    ),
    Vector(
        "format-field-id-reconnect",
        "wpt eventsource/format-field-id-2.any.js: the reconnection's body echoes the id",
        b"data: \xe2\x80\xa6\n\n",
        (msg(ELLIPSIS),),
    ),
    Vector(
        "format-field-id-3-persists",
        "wpt eventsource/format-field-id-3.window.js + resources/last-event-id2.py type=1",
        b"id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n",
        (msg("1", "1"), msg("2", "1"), msg("3", "2"), msg("4", "2")),
        last_event_id="2",
    ),
    Vector(
        "format-field-id-3-resets",
        "wpt eventsource/format-field-id-3.window.js + resources/last-event-id2.py type=2",
        b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
        (msg("1", "1"), msg("2", ""), msg("3", "")),
        last_event_id="",
    ),
    Vector(
        "format-field-id-3-resets-no-colon",
        "wpt eventsource/format-field-id-3.window.js + resources/last-event-id2.py type=3",
        b"id: 1\ndata: 1\n\nid\ndata:2\n\ndata:3\n\n",
        (msg("1", "1"), msg("2", ""), msg("3", "")),
        frozenset({K.NO_COLON}),
        last_event_id="",
    ),
    *[
        Vector(
            f"format-field-id-null-{i}",
            f"wpt eventsource/format-field-id-null.window.js, idvalue {value!r}",
            b"id: " + value + b"\nretry: 200\ndata: hello\n\n",
            (msg("hello", ""),),
            frozenset({K.NUL_ID}),
            last_event_id="",
            retry=200,
        )
        for i, value in enumerate([b"\x00\x00", b"x\x00", b"\x00x", b"x\x00x", b" \x00"])
    ],
    Vector(
        "format-field-parsing",
        "wpt eventsource/format-field-parsing.any.js: NUL, case, CR, leading space in names",
        message_py(
            b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\n"
            b"data:3\rdata:\r\n data:32\ndata:4\n",
            newline=False,
        ),
        (msg("\x00\n 2\n1\n3\n\n4"),),
        frozenset({K.UNKNOWN_FIELD, K.NO_COLON}),
    ),
    Vector(
        "format-field-retry",
        "wpt eventsource/format-field-retry.any.js: '03000' is 3000 (base ten, not octal)",
        message_py(b"retry:03000\ndata:x"),
        (msg("x"),),
        retry=3000,
    ),
    Vector(
        "format-field-retry-bogus",
        "wpt eventsource/format-field-retry-bogus.any.js: '1000x' is ignored, 3000 stays",
        message_py(b"retry:3000\nretry:1000x\ndata:x"),
        (msg("x"),),
        frozenset({K.BAD_RETRY}),
        retry=3000,
    ),
    Vector(
        "format-field-retry-empty",
        "wpt eventsource/format-field-retry-empty.any.js: a bare 'retry' is ignored",
        message_py(b"retry\ndata:test"),
        (msg("test"),),
        frozenset({K.NO_COLON, K.EMPTY_RETRY}),
        retry=None,
    ),
    Vector(
        "format-field-unknown",
        "wpt eventsource/format-field-unknown.any.js: unknown fields and parsing fun",
        message_py(
            b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test"
        ),
        (msg("test\n\ntest"),),
        frozenset({K.UNKNOWN_FIELD, K.NO_COLON}),
        comments=1,
    ),
    Vector(
        "format-leading-space",
        "wpt eventsource/format-leading-space.any.js: only one U+0020 is removed, not a tab",
        message_py(b"data:\ttest\rdata: \ndata:test"),
        (msg("\ttest\n\ntest"),),
    ),
    Vector(
        "format-newlines",
        "wpt eventsource/format-newlines.any.js: CRLF, LF and a final CR+LF",
        message_py(b"data:test\r\ndata\ndata:test\r\n\r", newline=False),
        (msg("test\n\ntest"),),
        frozenset({K.NO_COLON}),
        line_endings={"LF": 1, "CRLF": 3, "CR": 0},
    ),
    Vector(
        "format-null-character",
        "wpt eventsource/format-null-character.any.js: NUL in data is delivered",
        message_py(b"data:\x00\n\n"),
        (msg("\x00"),),
    ),
    Vector(
        "format-utf-8",
        "wpt eventsource/format-utf-8.any.js: always UTF-8 (the charset parameter is ignored)",
        message_py(b"data:ok\xe2\x80\xa6"),
        (msg("ok\u2026"),),
    ),
]

SPEC: list[Vector] = [
    Vector(
        "spec-stock",
        "WHATWG 'Authoring notes' example: three data lines make one event",
        b"data: YHOO\ndata: +2\ndata: 10\n\n",
        (msg("YHOO\n+2\n10"),),
    ),
    Vector(
        "spec-four-blocks",
        "WHATWG 'Interpreting an event stream' example: comment, id, bare id resets, two spaces",
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n\n",
        (msg("first event", "1"), msg("second event", ""), msg(" third event", "")),
        frozenset({K.NO_COLON}),
        comments=1,
        last_event_id="",
    ),
    Vector(
        "spec-empty-data",
        "WHATWG example: 'data' alone gives '', two give LF, the last 'data:' is discarded",
        b"data\n\ndata\ndata\n\ndata:",
        (msg(""), msg("\n")),
        frozenset({K.NO_COLON, K.TRAILING_PARTIAL}),
    ),
    Vector(
        "spec-event-types",
        "WHATWG 'Authoring notes' example: add/remove events go to their own listeners",
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
        (msg("73857293", type_="add"), msg("2153", type_="remove"), msg("113411", type_="add")),
    ),
    Vector(
        "spec-space-after-colon",
        "WHATWG example: 'data:test' and 'data: test' are the same",
        b"data:test\n\ndata: test\n\n",
        (msg("test"), msg("test")),
    ),
]

EDGE: list[Vector] = [
    Vector(
        "reference-like",
        "the reference streamer's shape: JSON strings, LF, 3 events",
        b'data: "Starting system RAM monitoring..."\n\n'
        b'data: "2026-11-25 17:29:55 - RAM usage: 1.9% (0.45GB / 23.54GB)"\n\n'
        b'data: "RAM monitoring completed"\n\n',
        (
            msg('"Starting system RAM monitoring..."'),
            msg('"2026-11-25 17:29:55 - RAM usage: 1.9% (0.45GB / 23.54GB)"'),
            msg('"RAM monitoring completed"'),
        ),
        line_endings={"LF": 6, "CRLF": 0, "CR": 0},
    ),
    Vector(
        "crlf-only",
        "sse-starlette's default framing: CRLF everywhere, ids, event types",
        b"id: 1\r\nevent: tick\r\ndata: a\r\n\r\nid: 2\r\ndata: b\r\n\r\n",
        (msg("a", "1", "tick"), msg("b", "2")),
        line_endings={"LF": 0, "CRLF": 7, "CR": 0},
        last_event_id="2",
    ),
    Vector(
        "cr-only",
        "spec: a single CR ends a line",
        b"data: a\rdata: b\r\rdata: c\r\r",
        (msg("a\nb"), msg("c")),
        line_endings={"LF": 0, "CRLF": 0, "CR": 5},
    ),
    Vector(
        "lf-then-cr",
        "spec: LF then CR is two line endings (the CR makes a blank line)",
        b"data: a\n\rdata: b\n\n",
        (msg("a"), msg("b")),
        line_endings={"LF": 3, "CRLF": 0, "CR": 1},
    ),
    Vector(
        "cr-cr-lf",
        "spec (Hickson, 2009): CR CR LF is two line endings: CR, then CRLF",
        b"data: a\r\r\ndata: b\r\r\n",
        (msg("a"), msg("b")),
        line_endings={"LF": 0, "CRLF": 2, "CR": 2},
    ),
    Vector(
        "mixed-endings",
        "spec: LF, CR and CRLF may be mixed in one stream",
        b"data: 1\ndata: 2\rdata: 3\r\n\ndata: 4\r\r",
        (msg("1\n2\n3"), msg("4")),
        line_endings={"LF": 2, "CRLF": 1, "CR": 3},
    ),
    Vector(
        "not-line-endings",
        "spec: U+2028, U+2029, NEL, VT and FF are not line endings",
        b"data: a\xe2\x80\xa8b\xe2\x80\xa9c\xc2\x85d\x0be\x0cf\n\n",
        (msg("a\u2028b\u2029c\u0085d\x0be\x0cf"),),
    ),
    Vector(
        "bom-crlf",
        "a BOM then CRLF: valid, and Chromium is fine with it",
        b"\xef\xbb\xbf\r\ndata: a\r\n\r\n",
        (msg("a"),),
        frozenset({K.BOM}),
    ),
    Vector(
        "bom-bare-lf",
        "a BOM then LF: valid by the spec (an empty first block), Chromium drops the first block",
        b"\xef\xbb\xbf\ndata: a\n\ndata: b\n\n",
        (msg("a"), msg("b")),
        frozenset({K.BOM, K.BOM_BARE_LINE_END}),
    ),
    Vector(
        "bom-bare-cr",
        "a BOM then a lone CR: same as LF",
        b"\xef\xbb\xbf\rdata: a\r\r",
        (msg("a"),),
        frozenset({K.BOM, K.BOM_BARE_LINE_END}),
    ),
    Vector(
        "bom-only",
        "just a BOM: nothing, and nothing pending",
        b"\xef\xbb\xbf",
        (),
        frozenset({K.BOM}),
    ),
    Vector(
        "bom-prefix-is-content",
        "EF BB without BF is not a BOM: two invalid bytes in a field name",
        b"\xef\xbbdata: a\n\n",
        (),
        frozenset({K.INVALID_UTF8, K.UNKNOWN_FIELD}),
    ),
    Vector(
        "id-only-block",
        "spec dispatch step 1: an id-only block sets the last event ID, dispatches nothing"
        " (as meant: no observation)",
        b"id: 7\n\ndata: a\n\n",
        (msg("a", "7"),),
        frozenset(),
        last_event_id="7",
    ),
    Vector(
        "event-only-block",
        "spec dispatch step 2: an event-only block resets the type",
        b"event: custom\n\ndata: a\n\n",
        (msg("a"),),
        frozenset({K.NO_DATA_BLOCK}),
    ),
    Vector(
        "retry-only-block",
        "a retry-only block: the reconnection time is set, nothing is dispatched (as meant)",
        b"retry: 2500\n\ndata: a\n\n",
        (msg("a"),),
        frozenset(),
        retry=2500,
    ),
    Vector(
        "comment-keepalives",
        "comment-only blocks are keep-alives: no observation but the count",
        b": ping\n\ndata: a\n\n:\n\n: ping\n\n",
        (msg("a"),),
        comments=3,
    ),
    Vector(
        "ids-and-retry",
        "ids, retry and event types on every event: valid",
        b"retry: 1000\nid: a1\nevent: up\ndata: 1\n\nid: a2\nevent: up\ndata: 2\n\n",
        (msg("1", "a1", "up"), msg("2", "a2", "up")),
        last_event_id="a2",
        retry=1000,
    ),
    Vector(
        "id-persists-unterminated-ignored",
        "an id in a block the stream ends inside is never applied",
        b"id: 1\ndata: a\n\nid: 2\ndata: b\n",
        (msg("a", "1"),),
        frozenset({K.TRAILING_PARTIAL}),
        last_event_id="1",
    ),
    Vector(
        "unterminated-last-line",
        "the last event lacks its blank line (single newline only): discarded",
        b"data: a\n\ndata: b\n",
        (msg("a"),),
        frozenset({K.TRAILING_PARTIAL}),
    ),
    Vector(
        "merged-by-single-newlines",
        "events separated by single LFs merge into one",
        b"data: a\ndata: b\ndata: c\n\n",
        (msg("a\nb\nc"),),
    ),
    Vector(
        "invalid-utf8",
        "spec: invalid bytes decode to U+FFFD (one per maximal subpart)",
        b"data: a\xffb\xe2\x80c\xf0\x80\x80d\n\n",
        (msg("a\ufffdb\ufffdc\ufffd\ufffd\ufffdd"),),
        frozenset({K.INVALID_UTF8}),
    ),
    Vector(
        "invalid-utf8-in-comment",
        "invalid UTF-8 in a comment is still not UTF-8",
        b": \xc3\x28\ndata: a\n\n",
        (msg("a"),),
        frozenset({K.INVALID_UTF8}),
        comments=1,
    ),
    Vector(
        "genuine-replacement-char",
        "a U+FFFD sent as valid UTF-8 is not an error",
        b"data: \xef\xbf\xbd\n\n",
        (msg("\ufffd"),),
    ),
    Vector(
        "retry-non-ascii-digits",
        "spec: ASCII digits only (Arabic-Indic and fullwidth digits are ignored), and no sign",
        b"retry: \xd9\xa3\nretry: \xef\xbc\x93\nretry: +3\nretry: 3 \ndata: a\n\n",
        (msg("a"),),
        frozenset({K.BAD_RETRY}),
        retry=None,
    ),
    Vector(
        "retry-huge",
        "spec: any run of ASCII digits is a valid retry",
        b"retry: 000123456789012345678901234567890\ndata: a\n\n",
        (msg("a"),),
        retry=123456789012345678901234567890,
    ),
    Vector(
        "case-sensitive-names",
        "spec: field names are compared literally, no case folding",
        b"DATA: x\nEvent: y\ndata: a\n\n",
        (msg("a"),),
        frozenset({K.UNKNOWN_FIELD}),
    ),
    Vector(
        "colon-in-value",
        "spec: the field/value split is at the first colon",
        b"data: a: b:c\nevent:x:y\n\n",
        (msg("a: b:c", type_="x:y"),),
    ),
    Vector(
        "unicode-event-type",
        "an event type is any text",
        b"event: caf\xc3\xa9\ndata: a\n\n",
        (msg("a", type_="caf\u00e9"),),
    ),
    Vector(
        "empty-stream",
        "no bytes: nothing",
        b"",
        (),
    ),
    Vector(
        "only-blank-lines",
        "blank lines with no fields dispatch nothing and are not anomalies",
        b"\n\n\r\n\r\r",
        (),
    ),
    Vector(
        "unterminated-comment",
        "a stream ending inside a comment line loses nothing",
        b"data: a\n\n: bye",
        (msg("a"),),
        comments=0,
    ),
]

ALL: list[Vector] = WPT + SPEC + EDGE
