"""The parser against the spec's examples and every web-platform-tests ``format-*`` case.

Each vector is fed whole, one byte at a time, cut between every CR and LF, and cut in two at
every position: all must give the same events, observations and counts, because a browser's
result never depends on how TCP delivered the bytes.
"""

from __future__ import annotations

import pytest

from conformance.parser import (
    BENIGN_KINDS,
    Event,
    Observation,
    ObservationKind,
    Parser,
    escape_excerpt,
    parse_all,
)
from tests.conformance.parser_oracle import (
    feed_chunks,
    oracle,
    oracle_observations,
    snapshot,
    split_at,
)
from tests.conformance.vectors import ALL, Vector

K = ObservationKind


def ids(vectors: list[Vector]) -> list[str]:
    return [v.name for v in vectors]


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_vector_events(vector: Vector) -> None:
    events, parser = parse_all(vector.stream)
    assert [(e.type, e.data, e.last_event_id) for e in events] == list(vector.expected)
    assert {o.kind for o in parser.observations} == set(vector.anomalies)
    if vector.last_event_id is not None:
        assert parser.last_event_id == vector.last_event_id
    assert parser.retry == vector.retry
    if vector.line_endings is not None:
        assert parser.line_endings == vector.line_endings
    if vector.comments is not None:
        assert parser.comments == vector.comments
    assert parser.bytes_fed == len(vector.stream)


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_vector_agrees_with_naive_oracle(vector: Vector) -> None:
    events, parser = parse_all(vector.stream)
    expected, last_id, retry = oracle(vector.stream)
    assert [(e.type, e.data, e.last_event_id) for e in events] == expected
    assert (parser.last_event_id, parser.retry) == (last_id, retry)


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_vector_observations_agree_with_naive_oracle(vector: Vector) -> None:
    _events, parser = parse_all(vector.stream)
    assert parser.observation_counts == oracle_observations(vector.stream)


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_vector_one_byte_at_a_time(vector: Vector) -> None:
    whole = snapshot(*parse_all(vector.stream))
    data = vector.stream
    assert snapshot(*feed_chunks([data[i : i + 1] for i in range(len(data))])) == whole


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_vector_split_between_cr_and_lf(vector: Vector) -> None:
    data = vector.stream
    cuts = [i for i in range(1, len(data)) if data[i - 1 : i + 1] == b"\r\n"]
    whole = snapshot(*parse_all(data))
    assert snapshot(*feed_chunks(split_at(data, cuts))) == whole
    for cut in cuts:  # and each CR/LF split alone
        assert snapshot(*feed_chunks(split_at(data, [cut]))) == whole


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_vector_cut_in_two_anywhere(vector: Vector) -> None:
    data = vector.stream
    whole = snapshot(*parse_all(data))
    cuts = set(range(0, len(data) + 1, 1 if len(data) <= 600 else 7))
    cuts |= {i + d for i, b in enumerate(data) if b in b"\r\n" for d in (-1, 0, 1, 2)}
    for cut in sorted(c for c in cuts if 0 <= c <= len(data)):
        assert snapshot(*feed_chunks([data[:cut], data[cut:]])) == whole, cut


def test_every_observation_kind_has_a_triggering_vector() -> None:
    covered = set().union(*(v.anomalies for v in ALL)) | {K.LINE_TOO_LONG}
    assert covered == set(ObservationKind)


def test_valid_streams_have_no_anomalies() -> None:
    valid = [
        b"data: a\r\n\r\n",  # CRLF
        b"data: a\r\rdata: b\r\r",  # CR only
        b"\xef\xbb\xbfdata: a\n\n",  # BOM
        b": keep-alive\n\ndata: a\n\n:\n\n",  # comments
        b"id: 1\ndata: a\n\nid: 2\ndata: b\n\n",  # ids
        b"retry: 3000\ndata: a\n\n",  # retry digits
        b"event: x\ndata: a\n\n",  # an event type (a check's business, not the parser's)
        b"data:\n\n",  # empty data
        b"data: \xf0\x9f\x98\x80 caf\xc3\xa9\n\n",  # non-ASCII UTF-8
    ]
    for stream in valid:
        _events, parser = parse_all(stream)
        anomalies = [o for o in parser.observations if o.kind not in BENIGN_KINDS]
        assert anomalies == [], stream


# ---------------------------------------------------------------- offsets and evidence


def only(parser: Parser, kind: ObservationKind) -> Observation:
    found = [o for o in parser.observations if o.kind == kind]
    assert len(found) == 1, parser.observations
    return found[0]


def test_event_offsets_point_at_the_raw_block() -> None:
    stream = b"\xef\xbb\xbf: hi\ndata: a\n\nid: 2\r\ndata: b\r\n\r\n"
    events, _ = parse_all(stream)
    assert [(e.offset, e.end) for e in events] == [(3, 17), (17, 34)]
    assert stream[3:17] == b": hi\ndata: a\n\n"
    assert stream[17:34] == b"id: 2\r\ndata: b\r\n\r"  # dispatched at the blank line's CR


def test_observation_offsets_and_excerpts() -> None:
    stream = b"data: ok\n\nfoo: 1\nretry: 5s\nid: a\x00b\ndata: \xff\n\nevent: x\n\ndata: tail\n"
    _events, parser = parse_all(stream)
    unknown = only(parser, K.UNKNOWN_FIELD)
    assert (unknown.offset, unknown.excerpt) == (10, b"foo: 1")
    bad_retry = only(parser, K.BAD_RETRY)
    assert (bad_retry.offset, bad_retry.excerpt) == (17, b"retry: 5s")
    nul = only(parser, K.NUL_ID)
    assert (nul.offset, nul.excerpt) == (27, b"id: a\x00b")
    utf8 = only(parser, K.INVALID_UTF8)
    assert utf8.offset == stream.index(b"\xff")
    assert utf8.excerpt == b"\xff"
    no_data = only(parser, K.NO_DATA_BLOCK)
    assert (no_data.offset, no_data.excerpt) == (stream.index(b"event: x"), b"event: x")
    trailing = only(parser, K.TRAILING_PARTIAL)
    assert (trailing.offset, trailing.excerpt) == (stream.index(b"data: tail"), b"data: tail")
    assert "1 data line(s)" in trailing.detail


def test_unterminated_line_is_trailing_partial() -> None:
    _events, parser = parse_all(b"data: a\n\ndata: b")
    trailing = only(parser, K.TRAILING_PARTIAL)
    assert (trailing.offset, trailing.excerpt) == (9, b"data: b")
    assert "unterminated line of 7 bytes" in trailing.detail


def test_first_line_ending_offsets() -> None:
    _events, parser = parse_all(b"data: a\r\ndata: b\ndata: c\r\r\n")
    assert parser.first_line_ending == {"CRLF": 7, "LF": 16, "CR": 24}
    assert parser.line_endings == {"CRLF": 2, "LF": 1, "CR": 1}


def test_bom_bare_line_end_is_decided_across_chunks() -> None:
    for second in (b"\ndata: a\r\n\r\n", b"data: a\n\n"):
        parser = Parser()
        parser.feed(b"\xef\xbb\xbf\r")
        parser.feed(second)
        parser.close()
        bare = second[:1] != b"\n"
        assert (K.BOM_BARE_LINE_END in parser.observation_counts) is bare


def test_bom_split_across_chunks_is_stripped_once() -> None:
    parser = Parser()
    assert parser.feed(b"\xef") == []
    assert parser.feed(b"\xbb") == []
    events = parser.feed(b"\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n")
    assert [e.data for e in events] == ["b"]
    assert parser.bom
    assert parser.unknown_fields == {"\ufeffdata": 1}


def test_bom_prefix_at_end_of_stream_is_content() -> None:
    parser = Parser()
    parser.feed(b"\xef\xbb")
    parser.close()
    assert not parser.bom
    assert K.TRAILING_PARTIAL in parser.observation_counts


def test_cr_at_end_of_chunk_dispatches_immediately() -> None:
    parser = Parser()
    assert [e.data for e in parser.feed(b"data: a\r\r")] == ["a"]
    assert parser.feed(b"\ndata: b\r\n\r\n")[0].data == "b"  # the LF completed a CRLF
    parser.close()
    assert parser.line_endings == {"LF": 0, "CRLF": 3, "CR": 1}


def test_observation_cap() -> None:
    stream = b"foo: 1\n" * 50 + b"data: a\n\n"
    events, parser = parse_all(stream, max_observations=10)
    assert [e.data for e in events] == ["a"]
    assert len(parser.observations) == 10
    assert parser.observations_dropped == 40
    assert parser.observation_counts[K.UNKNOWN_FIELD] == 50
    assert parser.unknown_fields == {"foo": 50}


def test_unknown_field_names_are_bounded() -> None:
    stream = b"".join(b"f%d: x\n" % i for i in range(500)) + b"\n"
    _events, parser = parse_all(stream)
    assert len(parser.unknown_fields) == 100


def test_callbacks_see_what_feed_returns() -> None:
    seen_events: list[Event] = []
    seen_obs: list[Observation] = []
    parser = Parser(on_event=seen_events.append, on_observation=seen_obs.append)
    events = parser.feed(b"foo: 1\ndata: a\n\ndata: b\n\n")
    parser.close()
    assert seen_events == events
    assert seen_obs == parser.observations


def test_reset_forgets_everything() -> None:
    parser = Parser()
    parser.feed(b"\xef\xbb\xbfid: 1\nretry: 5\ndata: a\n\ndata: partial")
    parser.close()
    parser.reset()
    fresh = Parser()
    assert snapshot([], parser) == snapshot([], fresh)
    assert [e.data for e in parser.feed(b"\xef\xbb\xbfdata: x\n\n")] == ["x"]


def test_feed_after_close_is_an_error() -> None:
    parser = Parser()
    parser.close()
    with pytest.raises(RuntimeError):
        parser.feed(b"data: a\n\n")


def test_longest_line() -> None:
    _events, parser = parse_all(b"data: a\n" + b"data: " + b"z" * 100 + b"\n\n")
    assert parser.longest_line == 106


# ---------------------------------------------------------------- long lines


def test_line_too_long_is_cut_and_reported_once() -> None:
    stream = b"data: " + b"y" * 100 + b"\ndata: ok\n\ndata: next\n\n"
    for chunks in ([stream], [stream[i : i + 7] for i in range(0, len(stream), 7)]):
        events, parser = feed_chunks(chunks, max_line_bytes=20)
        assert [e.data for e in events] == ["y" * 14 + "\nok", "next"]
        too_long = only(parser, K.LINE_TOO_LONG)
        assert (too_long.offset, too_long.excerpt) == (0, b"data: " + b"y" * 14)
        assert parser.longest_line == 106


def test_line_cut_inside_a_utf8_sequence_is_not_invalid_utf8() -> None:
    stream = b"data: " + "\u00e9".encode() * 20 + b"\n\n"
    events, parser = parse_all(stream, max_line_bytes=11)  # cuts the 3rd e-acute in half
    assert events[0].data == "\u00e9\u00e9"
    assert K.INVALID_UTF8 not in parser.observation_counts


def test_escape_excerpt() -> None:
    assert escape_excerpt(b'data: "x"\r\n') == 'data: "x"\\r\\n'
    assert escape_excerpt(b"a\tb\\c\x00\xff\x7f") == "a\\tb\\\\c\\x00\\xff\\x7f"
    assert escape_excerpt(b"abcdef", limit=3) == "abc\u2026"
    assert escape_excerpt(b"abc", limit=3) == "abc"
    assert escape_excerpt(b"") == ""


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_fast_path_and_general_path_agree(vector: Vector, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = snapshot(*parse_all(vector.stream))
    monkeypatch.setattr(Parser, "_fast_path", False)
    assert snapshot(*parse_all(vector.stream)) == fast


def test_a_line_arriving_one_byte_at_a_time_stays_linear_and_bounded() -> None:
    parser = Parser(max_line_bytes=1000)
    line = b"data: " + b"q" * 50_000
    for i in range(len(line)):
        parser.feed(line[i : i + 1])
        assert parser.buffered_bytes <= 1000
    events = parser.feed(b"\n\n")
    parser.close()
    assert len(events[0].data) == 1000 - len(b"data: ")
    assert parser.observation_counts == {K.LINE_TOO_LONG: 1}


def test_bytearray_and_memoryview_input() -> None:
    stream = b"foo: 1\ndata: a\n\n"
    for chunk in (bytearray(stream), memoryview(stream)):
        parser = Parser()
        events = parser.feed(chunk)  # type: ignore[arg-type]
        assert [e.data for e in events] == ["a"]
        assert isinstance(parser.observations[0].excerpt, bytes)


def test_pending_says_what_close_would_discard() -> None:
    parser = Parser()
    assert not parser.pending
    parser.feed(b"\xef")
    assert parser.pending  # one byte, not yet known to be a BOM: content so far
    parser.feed(b"\xbb\xbf: comment")
    assert not parser.pending  # an unterminated comment loses nothing
    parser.feed(b"\ndata: a\n")
    assert parser.pending
    parser.feed(b"\n")
    assert not parser.pending
    parser.feed(b"id: 3")
    assert parser.pending


def test_invalid_utf8_in_the_unterminated_last_line_is_reported() -> None:
    _events, parser = parse_all(b"data: a\n\n: caf\xe9")
    utf8 = only(parser, K.INVALID_UTF8)
    assert utf8.offset == 14
    assert K.TRAILING_PARTIAL not in parser.observation_counts  # a comment: nothing lost


def test_an_unterminated_line_counts_towards_longest_line() -> None:
    _events, parser = parse_all(b"data: a\n\n" + b"x" * 50, max_line_bytes=20)
    assert parser.longest_line == 50
    assert K.LINE_TOO_LONG in parser.observation_counts
