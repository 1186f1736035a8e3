"""The parser takes its column path only for chunks of many blocks: it pays for itself there.

Measured on chunks of one ``id``/``data`` block (CPU time): the column path costs about twice
the block path (5.8 against 2.8 µs per chunk); the two are even at about 16 blocks. A load client reads one event per read, a capture reads 64 KiB chunks:
the chunk decides, inside the parser, so no caller has to reach into its internals.
"""

from __future__ import annotations

import pytest

import conformance.parser.stream as parser_stream
from conformance.parser import Parser, parse_all
from conformance.parser.columns import run_columns
from conformance.parser.stream import COLUMN_MIN_BLOCKS


def blocks(n: int, start: int = 0) -> bytes:
    return b"".join(b'id: %d\ndata: "tick %d"\n\n' % (i, i) for i in range(start, start + n))


@pytest.fixture
def column_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def counting(parser: Parser, text: str) -> int:
        calls.append(run_columns(parser, text))
        return calls[-1]

    monkeypatch.setattr(parser_stream, "run_columns", counting)
    return calls


def test_the_threshold_is_where_the_paths_break_even() -> None:
    assert COLUMN_MIN_BLOCKS == 16
    assert Parser._column_min_blocks == COLUMN_MIN_BLOCKS


@pytest.mark.parametrize("count", [1, 2, COLUMN_MIN_BLOCKS - 1])
def test_chunks_of_few_blocks_skip_the_column_path(column_calls: list[int], count: int) -> None:
    parser = Parser()
    events = [e for k in range(5) for e in parser.feed(blocks(count, k * count))]
    assert column_calls == []
    assert len(events) == 5 * count
    assert events[-1].last_event_id == str(5 * count - 1)


@pytest.mark.parametrize("count", [COLUMN_MIN_BLOCKS, 4 * COLUMN_MIN_BLOCKS])
def test_chunks_of_many_blocks_take_it(column_calls: list[int], count: int) -> None:
    data = blocks(count)
    events = Parser().feed(data)
    assert column_calls == [len(data)]
    assert len(events) == count


def test_only_whole_blocks_count(column_calls: list[int]) -> None:
    """A block finished from the previous chunk and the blank lines after it are not counted
    as blocks of this chunk: what the column path would get is what is measured."""
    parser = Parser()
    parser.feed(b"data: a")
    tail = b"\n\n" + b"\n" * 40 + blocks(COLUMN_MIN_BLOCKS - 1)
    events = parser.feed(tail)
    assert column_calls == []
    assert len(events) == COLUMN_MIN_BLOCKS


def test_either_way_the_events_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = blocks(3 * COLUMN_MIN_BLOCKS)
    cuts = [stream[i : i + 100] for i in range(0, len(stream), 100)] + [stream]
    for chunk in cuts:
        default = parse_all(chunk)[0]
        monkeypatch.setattr(Parser, "_column_min_blocks", 1)
        assert parse_all(chunk)[0] == default
        monkeypatch.undo()
