"""The block fast path (conformance.parser.blocks) changes nothing observable: every vector and
generated stream of common and uncommon blocks, cut anywhere, gives the same events, offsets,
observations and counters with it and without it (line by line), and as the general path."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.parser import Parser, parse_all
from tests.conformance.parser_oracle import feed_chunks, snapshot, split_at
from tests.conformance.test_parser import ids
from tests.conformance.vectors import ALL, Vector

BLOCKS = [
    b"id: 1\ndata: x\n\n",
    b"id:2\ndata:y\n\n",
    b"data: only\n\n",
    b"data:\n\n",
    b"id: \ndata: empty id\n\n",
    b'id: 10\ndata: "2026-11-25 17:29:55 - RAM usage: 1.9% (0.45GB / 23.54GB)"\n\n',
    b"id: 3\x004\ndata: nul in id\n\n",
    b"id: 5\ndata: a\ndata: b\n\n",
    b"event: tick\ndata: z\n\n",
    b": comment\n",
    b"\n",
    b"data\n\n",
    b"id\ndata: bare id\n\n",
    b"id: 6\nretry: 100\ndata: w\n\n",
    b"data: caf\xc3\xa9\n\n",
    b"data: " + b"L" * 300 + b"\n\n",
    b"id: " + b"9" * 200 + b"\ndata: long id\n\n",
    b"idx: 1\ndata: unknown field\n\n",
    b"data:  two spaces\n\n",
    b"\xef\xbb\xbf",
    b"id: 7\n",
    b"data: half",
]
block_streams = st.lists(st.sampled_from(BLOCKS), max_size=40).map(b"".join)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def without_blocks(chunks: list[bytes], *, line_limit: int = 1 << 20) -> object:
    Parser._block_path = False
    try:
        return snapshot(*feed_chunks(chunks, max_line_bytes=line_limit))
    finally:
        Parser._block_path = True


@st.composite
def cut_streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    data = draw(block_streams)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=10))
    return data, sorted(cuts)


@SETTINGS
@given(cut_streams())
def test_block_path_and_line_path_agree_however_the_stream_is_cut(
    case: tuple[bytes, list[int]],
) -> None:
    data, cuts = case
    chunks = split_at(data, cuts)
    assert snapshot(*feed_chunks(chunks)) == without_blocks(chunks)


@SETTINGS
@given(cut_streams(), st.integers(1, 64))
def test_block_path_agrees_with_a_small_line_limit(
    case: tuple[bytes, list[int]], limit: int
) -> None:
    data, cuts = case
    chunks = split_at(data, cuts)
    got = snapshot(*feed_chunks(chunks, max_line_bytes=limit))
    assert got == without_blocks(chunks, line_limit=limit)


@SETTINGS
@given(block_streams)
def test_block_path_agrees_with_the_general_path(data: bytes) -> None:
    fast = snapshot(*parse_all(data))
    Parser._fast_path = False
    try:
        general = snapshot(*parse_all(data))
    finally:
        Parser._fast_path = True
    assert fast == general


@pytest.mark.parametrize("vector", ALL, ids=ids(ALL))
def test_every_vector_is_the_same_without_the_block_path(
    vector: Vector, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_blocks = snapshot(*parse_all(vector.stream))
    monkeypatch.setattr(Parser, "_block_path", False)
    assert snapshot(*parse_all(vector.stream)) == with_blocks


def test_mixed_common_blocks_take_the_block_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only correct: actually used (a regression that turned it off would cost the speed)."""
    from conformance.parser.blocks import run_blocks as real

    taken: list[int] = []

    def spy(parser: Parser, text: str) -> int:
        taken.append(real(parser, text))
        return taken[-1]

    monkeypatch.setattr("conformance.parser.stream.run_blocks", spy)
    # some blocks with an id, some without: not one shape, so not the column path's
    data = b"".join(
        (b'id: %d\ndata: "sample %d"\n\n' if n % 3 else b'data: "sample %d %d"\n\n') % (n, n)
        for n in range(5000)
    )
    parser = Parser()
    events = [e for i in range(0, len(data), 4096) for e in parser.feed(data[i : i + 4096])]
    assert len(events) == 5000
    assert sum(taken) > 0.9 * len(data)


BLANK_RUNS = [b"\n" * 5000, b"id: 4\n\n\n\n", b"data: x\n\n\n\n\n", b"\n\n: c\n\n\n", b"id: 9\n"]


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_runs_of_blank_lines_are_the_same_taken_at_once(size: int) -> None:
    """The blank-run skip (_skip_blank_run) keeps ids, offsets and line counts exact."""
    data = b"".join(BLANK_RUNS[i % len(BLANK_RUNS)] for i in range(40))
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert snapshot(*feed_chunks(chunks)) == without_blocks(chunks)


def test_a_body_of_blank_lines_is_not_a_loop_turn_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip bomb of newlines: 16 MiB of blank lines were 16 million turns of the hot loop."""
    turns: list[int] = []
    real = Parser._run_lines

    def spy(self: Parser, lines: object, start: int, step: int) -> int:
        turns.append(1)
        return real(self, lines, start, step)  # type: ignore[arg-type]

    monkeypatch.setattr(Parser, "_run_lines", spy)
    parser = Parser()
    for _ in range(64):
        assert parser.feed(b"\n" * 65536) == []
    assert parser.line_endings["LF"] == 64 * 65536
    assert turns == []
