"""Properties of the parser over generated streams (hypothesis).

* Chunking never matters: any cut of any byte string gives the events, observations and counts
  of feeding it whole.  (Browsers receive TCP segments of arbitrary sizes.)
* The parser agrees with a naive, independent reading of the spec on every stream.
* Python's UTF-8 replacement decoding equals the WHATWG Encoding standard's decoder, which is
  what lets the parser use ``bytes.decode(..., "replace")``.
* Arbitrary bytes never raise, and memory stays bounded by ``max_line_bytes``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.parser import ObservationKind, Parser, parse_all
from tests.conformance.parser_oracle import (
    feed_chunks,
    oracle,
    oracle_observations,
    snapshot,
    split_at,
)

TOKENS = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b": ",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\xef\xbb\xbf",
    b"\xef\xbb",
    b"\x00",
    b"\xff",
    b"\xe2\x80",
    b"\xe2\x80\xa6",
    b"\xf0\x9f\x98\x80",
    b"x",
    b"7",
    b"foo",
    b"\t",
]

sse_like = st.lists(st.sampled_from(TOKENS), max_size=60).map(b"".join)
# Real servers use one line-ending style throughout: those streams take the split fast paths.
line_content = st.lists(
    st.sampled_from([t for t in TOKENS if b"\r" not in t and b"\n" not in t]), max_size=6
).map(b"".join)
one_style = st.builds(
    lambda lines, ending: b"".join(line + ending for line in lines),
    st.lists(st.one_of(line_content, st.just(b"")), max_size=20),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
streams = st.one_of(sse_like, one_style, st.binary(max_size=200))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stream_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    data = draw(streams)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=12))
    return data, sorted(cuts)


@FAST
@given(stream_and_cuts())
def test_any_chunking_gives_the_result_of_whole_feeding(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    assert snapshot(*feed_chunks(split_at(data, cuts))) == snapshot(*parse_all(data))


@FAST
@given(stream_and_cuts(), st.integers(1, 24))
def test_chunking_never_matters_with_a_small_line_limit(
    case: tuple[bytes, list[int]], limit: int
) -> None:
    data, cuts = case
    whole = snapshot(*parse_all(data, max_line_bytes=limit))
    assert snapshot(*feed_chunks(split_at(data, cuts), max_line_bytes=limit)) == whole


@FAST
@given(stream_and_cuts())
def test_fast_path_and_general_path_agree(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    fast = snapshot(*feed_chunks(split_at(data, cuts)))
    Parser._fast_path = False
    try:
        general = snapshot(*feed_chunks(split_at(data, cuts)))
    finally:
        Parser._fast_path = True
    assert general == fast


@FAST
@given(streams)
def test_agrees_with_the_naive_oracle(data: bytes) -> None:
    events, parser = parse_all(data)
    expected, last_id, retry = oracle(data)
    assert [(e.type, e.data, e.last_event_id) for e in events] == expected
    assert (parser.last_event_id, parser.retry) == (last_id, retry)
    assert parser.observation_counts == oracle_observations(data)


@FAST
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    parser = Parser(max_line_bytes=64, max_observations=5)
    for i in range(0, len(data), 37):
        parser.feed(data[i : i + 37])
    parser.close()
    assert len(parser.observations) <= 5


def whatwg_utf8_decode(raw: bytes) -> str:
    """The UTF-8 decoder of the WHATWG Encoding standard, with replacement, step by step."""
    out: list[str] = []
    needed = seen = code = 0
    lower, upper = 0x80, 0xBF
    i = 0
    while i < len(raw):
        byte = raw[i]
        if needed == 0:
            if byte <= 0x7F:
                out.append(chr(byte))
            elif 0xC2 <= byte <= 0xDF:
                needed, code = 1, byte & 0x1F
            elif 0xE0 <= byte <= 0xEF:
                lower = 0xA0 if byte == 0xE0 else lower
                upper = 0x9F if byte == 0xED else upper
                needed, code = 2, byte & 0x0F
            elif 0xF0 <= byte <= 0xF4:
                lower = 0x90 if byte == 0xF0 else lower
                upper = 0x8F if byte == 0xF4 else upper
                needed, code = 3, byte & 0x07
            else:
                out.append("\ufffd")
            i += 1
            continue
        if not lower <= byte <= upper:
            # "set UTF-8 code point, UTF-8 bytes needed, and UTF-8 bytes seen to 0, ...
            # restore byte to ioQueue. Return error."
            needed = seen = code = 0
            lower, upper = 0x80, 0xBF
            out.append("\ufffd")
            continue
        lower, upper = 0x80, 0xBF
        code = (code << 6) | (byte & 0x3F)
        seen += 1
        i += 1
        if seen == needed:
            out.append(chr(code))
            needed = seen = code = 0
    if needed:
        out.append("\ufffd")
    return "".join(out)


utf8ish = st.lists(
    st.one_of(
        st.integers(0, 255).map(lambda b: bytes([b])),
        st.text(max_size=3).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.sampled_from([b"\xe0\x80", b"\xed\xa0", b"\xf4\x90", b"\xf0\x8f", b"\xc0\xaf"]),
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(utf8ish)
def test_python_replacement_equals_the_whatwg_decoder(raw: bytes) -> None:
    assert raw.decode("utf-8", "replace") == whatwg_utf8_decode(raw)


def test_whatwg_decoder_sanity() -> None:
    assert whatwg_utf8_decode(b"a\xe2\x80\xa6") == "a\u2026"
    assert whatwg_utf8_decode(b"\xf0\x80\x80") == "\ufffd" * 3
    assert whatwg_utf8_decode(b"\xe2\x80") == "\ufffd"


def test_five_megabyte_line_is_bounded_and_the_stream_goes_on() -> None:
    limit = 1 << 20
    stream = b"data: a\n\ndata: " + b"z" * (5 << 20) + b"\n\ndata: after\n\n"
    parser = Parser(max_line_bytes=limit)
    events = []
    most = 0
    for i in range(0, len(stream), 64 << 10):
        events.extend(parser.feed(stream[i : i + (64 << 10)]))
        most = max(most, parser.buffered_bytes)
    parser.close()
    assert most <= limit
    assert [e.data for e in events][0::2] == ["a", "after"]
    assert len(events[1].data) == limit - len(b"data: ")
    assert parser.observation_counts == {ObservationKind.LINE_TOO_LONG: 1}
    assert parser.longest_line == len(b"data: ") + (5 << 20)
