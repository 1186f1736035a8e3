"""The column fast path (conformance.parser.columns) changes nothing observable, and is used.

Runs of blocks that all have one shape (``[id: V LF] data: V LF LF``, with or without the
space, with or without the id line) are generated with values that look like field names,
spaces, NULs and non-ASCII, sometimes with one odd block among them, cut anywhere: with the
column path, without it (block by block), and line by line, the events, offsets, observations
and counters are the same.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.parser import Event, ObservationKind, Parser, parse_all
from tests.conformance.parser_oracle import feed_chunks, oracle, snapshot, split_at
from tests.conformance.test_parser import ids
from tests.conformance.test_parser_blocks import BLOCKS
from tests.conformance.vectors import ALL, Vector

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def columns_for_any_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The column path for chunks of any number of blocks: these tests compare it with the
    other paths on short streams too (by default a chunk needs COLUMN_MIN_BLOCKS blocks)."""
    monkeypatch.setattr(Parser, "_column_min_blocks", 1)


# values that could fool a split-and-replace: names, colons, spaces, NUL, non-ASCII
VALUE_PIECES = ["x", "7", " ", ":", "data:", "id:", "\ndata:", "\0", "é", '"', "{}"]
values = st.lists(st.sampled_from(VALUE_PIECES), max_size=5).map(
    lambda pieces: "".join(pieces).replace("\n", "")
)


@st.composite
def uniform_streams(draw: st.DrawFn) -> bytes:
    """Blocks of one shape, now and then one of another shape among them."""
    id_sep = draw(st.sampled_from([None, "id:", "id: "]))
    data_sep = draw(st.sampled_from(["data:", "data: "]))
    count = draw(st.integers(0, 30))
    blocks = []
    for _ in range(count):
        data = f"{data_sep}{draw(values)}\n\n"
        blocks.append((f"{id_sep}{draw(values)}\n" if id_sep else "") + data)
    stream = "".join(blocks).encode()
    if draw(st.booleans()):
        at = draw(st.integers(0, len(blocks)))
        odd = draw(st.sampled_from(BLOCKS))
        stream = "".join(blocks[:at]).encode() + odd + "".join(blocks[at:]).encode()
    return stream


@st.composite
def cut_uniform_streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    data = draw(uniform_streams())
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=6))
    return data, sorted(cuts)


def parse_without(
    chunks: list[bytes], *, blocks_too: bool = False, line_limit: int = 1 << 20
) -> object:
    """The snapshot with the column path off (and the block path too, if asked)."""
    Parser._column_path = False
    Parser._block_path = not blocks_too
    try:
        return snapshot(*feed_chunks(chunks, max_line_bytes=line_limit))
    finally:
        Parser._column_path = True
        Parser._block_path = True


@SETTINGS
@given(cut_uniform_streams())
def test_column_path_block_path_and_line_path_agree_however_the_stream_is_cut(
    case: tuple[bytes, list[int]],
) -> None:
    data, cuts = case
    chunks = split_at(data, cuts)
    got = snapshot(*feed_chunks(chunks))
    assert got == parse_without(chunks)
    assert got == parse_without(chunks, blocks_too=True)


@SETTINGS
@given(cut_uniform_streams(), st.integers(1, 40))
def test_column_path_agrees_with_a_small_line_limit(
    case: tuple[bytes, list[int]], limit: int
) -> None:
    data, cuts = case
    chunks = split_at(data, cuts)
    got = snapshot(*feed_chunks(chunks, max_line_bytes=limit))
    assert got == parse_without(chunks, blocks_too=True, line_limit=limit)


@SETTINGS
@given(uniform_streams())
def test_column_path_agrees_with_the_naive_oracle(data: bytes) -> None:
    events, parser = parse_all(data)
    expected, last_id, _ = oracle(data)
    assert [(e.type, e.data, e.last_event_id) for e in events] == expected
    assert parser.last_event_id == last_id


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_every_vector_is_the_same_without_the_column_path(
    vector: Vector, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_columns = snapshot(*parse_all(vector.stream))
    monkeypatch.setattr(Parser, "_column_path", False)
    assert snapshot(*parse_all(vector.stream)) == with_columns


def spy_on_columns(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from conformance.parser.columns import run_columns as real

    taken: list[int] = []

    def spy(parser: Parser, text: str) -> int:
        taken.append(real(parser, text))
        return taken[-1]

    monkeypatch.setattr("conformance.parser.stream.run_columns", spy)
    return taken


@pytest.mark.parametrize(
    "block",
    [b'id: %d\ndata: "sample %d"\n\n', b"id:%d\ndata:%d\n\n", b'data: {"n": %d, "m": %d}\n\n'],
)
def test_uniform_chunks_take_the_column_path(monkeypatch: pytest.MonkeyPatch, block: bytes) -> None:
    """Not only correct: actually used (a regression that turned it off would cost the speed)."""
    taken = spy_on_columns(monkeypatch)
    data = b"".join(block % (n, n) for n in range(5000))
    parser = Parser()
    events = [e for i in range(0, len(data), 4096) for e in parser.feed(data[i : i + 4096])]
    assert len(events) == 5000
    assert sum(taken) > 0.9 * len(data)
    assert events == parse_without([data])[0]  # type: ignore[index]


@pytest.mark.parametrize(
    "stream",
    [
        b"data: a\ndata:b\n\n",  # one data line with the space, one without
        b"id: 1\ndata: a\n\nid:2\ndata: b\n\n",
        b"id: 1\ndata: a\n\ndata: b\n\n",  # an id-less block among id blocks
        b"id: 1\x00\ndata: a\n\n",  # NUL: the id is ignored
        b"id: 1\ndata: a\n\n\n",  # an extra blank line
        b"idx: 1\ndata: a\n\n",
        b"data: a\nid: 1\n\n",
        b"id: 1\ndata: a\ndata: b\n\n",
        b"event: e\ndata: a\n\n",
    ],
)
def test_odd_blocks_are_left_to_the_slower_paths(
    monkeypatch: pytest.MonkeyPatch, stream: bytes
) -> None:
    taken = spy_on_columns(monkeypatch)
    got = snapshot(*parse_all(stream))
    assert taken == [0]
    assert got == parse_without([stream], blocks_too=True)


def test_values_that_look_like_field_names_stay_values() -> None:
    stream = b"id: id: 1\ndata: data: x\n\nid: \ndata: \n\nid:  2\ndata:  y\n\n"
    events, parser = parse_all(stream)
    assert [(e.data, e.last_event_id) for e in events] == [
        ("data: x", "id: 1"),
        ("", ""),
        (" y", " 2"),
    ]
    Parser._column_path = False
    try:
        assert snapshot(events, parser) == snapshot(*parse_all(stream))
    finally:
        Parser._column_path = True


def test_the_longest_line_and_the_line_limit_hold_on_the_column_path() -> None:
    stream = b"".join(b"id: %d\ndata: %s\n\n" % (n, b"v" * n) for n in range(50))
    events, parser = parse_all(stream)
    assert len(events) == 50
    assert parser.longest_line == len(b"data: ") + 49
    cut = Parser(max_line_bytes=40)
    cut_events = cut.feed(stream)
    cut.close()
    assert len(cut_events) == 50
    assert cut.observation_counts[ObservationKind.LINE_TOO_LONG] == 15  # data lines of 41+ bytes
    assert cut_events[-1].data == "v" * (40 - len(b"data: "))


def test_events_built_on_the_fast_paths_are_ordinary_frozen_events() -> None:
    events, _ = parse_all(b'id: 1\ndata: "x"\n\n' * 3)
    event = events[0]
    assert type(event) is Event
    assert event == Event("message", '"x"', "1", 0, 17)
    assert hash(event) == hash(Event("message", '"x"', "1", 0, 17))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "changed"  # type: ignore[misc]
    assert dataclasses.replace(event, data="y").data == "y"
