"""The load client's read path counts exactly the suite parser's events, however the body comes.

The read path takes shortcuts for speed (a read that is exactly one chunk is de-chunked with one
slice; a read with few blank lines skips the parser's column path): every vector of the parser
tests, chunked and read in several ways, must still give ``parse_all``'s events and last ID.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import conformance.load.httpwire as httpwire
import conformance.parser.stream as parser_stream
from conformance.load.client import LoadStream
from conformance.load.httpwire import HttpError, ResponseReader
from conformance.parser import parse_all
from conformance.parser.columns import run_columns
from conformance.parser.stream import COLUMN_MIN_BLOCKS
from tests.conformance.vectors import ALL, Vector

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Listener:
    def __init__(self) -> None:
        self.counted = 0

    def stream_opened(self, stream: LoadStream) -> None:
        pass

    def stream_events(self, stream: LoadStream, now: float, count: int, first: bool) -> None:
        self.counted += count

    def stream_closed(self, stream: LoadStream) -> None:
        pass


def pieces(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def blocks(stream: bytes) -> list[bytes]:
    """Split after every blank line (one event per chunk, as a server writing events does)."""
    out, start = [], 0
    while (end := stream.find(b"\n\n", start)) >= 0:
        out.append(stream[start : end + 2])
        start = end + 2
    return [*out, stream[start:]] if stream[start:] else out


def ways(stream: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """(name, reads): each read is what one ``data_received`` gets."""
    for size in (1, 3, 64, 1 << 20):
        yield f"one chunk per read, {size}-byte chunks", [chunk(p) for p in pieces(stream, size)]
    yield "one chunk per block", [chunk(b) for b in blocks(stream) if b]
    wire = b"".join(chunk(b) for b in blocks(stream) if b)
    for size in (1, 5, 17):
        yield f"chunk per block, {size}-byte reads", pieces(wire, size)
    yield "all chunks in one read", [wire]


def run(reads: list[bytes]) -> LoadStream:
    listener = Listener()
    stream = LoadStream(b"", listener, started=time.monotonic(), min_events=0)
    stream.data_received(HEAD)
    for data in reads:
        if data:
            stream.data_received(data)
    assert listener.counted == stream.events
    return stream


@pytest.mark.parametrize("vector", ALL, ids=[v.name for v in ALL])
def test_every_vector_counts_the_parsers_events(vector: Vector) -> None:
    events, _ = parse_all(vector.stream)
    last_id = events[-1].last_event_id if events else ""
    for name, reads in ways(vector.stream):
        stream = run(reads)
        assert (stream.events, stream.last_id, stream.error) == (len(events), last_id, None), name


def many_blocks(n: int) -> bytes:
    return b"".join(b'id: %d\ndata: "tick %d"\n\n' % (i, i) for i in range(n))


@pytest.mark.parametrize("count", [1, 2, COLUMN_MIN_BLOCKS - 1, COLUMN_MIN_BLOCKS, 200])
def test_reads_of_many_shapes_count_exactly(count: int) -> None:
    body = many_blocks(count)
    stream = run([chunk(body)] * 3)
    assert (stream.events, stream.last_id) == (3 * count, str(count - 1))


def test_one_event_reads_skip_the_column_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The column path costs about twice the block path for a read of one block (measured:
    191,000 against 385,000 events per CPU-second); it pays only for reads of many blocks.
    The parser decides by the chunk: the load client does not touch its internals."""
    calls: list[int] = []

    def counting(parser: object, text: str) -> int:
        calls.append(len(text))
        return run_columns(parser, text)

    monkeypatch.setattr(parser_stream, "run_columns", counting)
    stream = run([chunk(b'data: "tick %d"\n\n' % i) for i in range(50)])
    assert stream.events == 50
    assert calls == []
    stream = run([chunk(many_blocks(4 * COLUMN_MIN_BLOCKS))])
    assert stream.events == 4 * COLUMN_MIN_BLOCKS
    assert calls, "a read of many blocks of one shape takes the column path"


def test_a_whole_chunk_read_is_one_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ResponseReader, data: bytes) -> bytes:
        raise AssertionError("the general de-chunker ran for a read of one whole chunk")

    reader = ResponseReader()
    reader.feed(HEAD)
    monkeypatch.setattr(httpwire.ResponseReader, "_dechunk", refuse)
    assert reader.feed(chunk(b"data: x\n\n")) == b"data: x\n\n"
    assert reader.feed(chunk(b"a\r\n\r\n")) == b"a\r\n\r\n"  # CRLFs inside the data


@pytest.mark.parametrize(
    ("reads", "body", "complete"),
    [
        ([b"5;ext=1\r\nhello\r\n"], b"hello", False),  # an extension: the general path
        ([b"5\r\nhello\r\n3\r\nabc\r\n"], b"helloabc", False),  # two chunks in a read
        ([b"5\r\nhello\r\n", b"0\r\n\r\n"], b"hello", True),  # the last chunk
        ([b"5\r\nhel", b"lo\r\n"], b"hello", False),  # a chunk over two reads
        ([b"5\r\n", b"hello\r\n"], b"hello", False),
    ],
)
def test_unusual_chunks_take_the_general_path(
    reads: list[bytes], body: bytes, complete: bool
) -> None:
    reader = ResponseReader()
    reader.feed(HEAD)
    assert b"".join(reader.feed(r) for r in reads) == body
    assert reader.complete is complete


@pytest.mark.parametrize("raw", [b"5\r\nhelloXY", b"5\r\nhelloXY\r\n", b"zz\r\nhello\r\n"])
def test_bad_chunks_still_raise(raw: bytes) -> None:
    reader = ResponseReader()
    reader.feed(HEAD)
    with pytest.raises(HttpError):
        reader.feed(raw)
