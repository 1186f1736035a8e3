"""Parser throughput: our spec-exact parser against httpx-sse's decoder on the same bytes.

Why: the suite parses every byte a server sends while it measures timing, so the parser must
not be the bottleneck, and exactness must not cost more than a popular (inexact) decoder.

The stream looks like the reference's: ``id: N`` then ``data: "<JSON string>"`` then a blank
line, LF only (``--endings crlf|cr`` for the other styles).  Both sides get the same 64 KiB
chunks.  httpx-sse runs exactly as its ``EventSource.iter_sse()`` does: httpx's incremental
UTF-8 text decoding (errors="replace"), then ``SSELineDecoder``, then ``line.rstrip("\\n")``
and ``SSEDecoder.decode`` per line.  Times are CPU time of this process (the machine may be
shared), best of ``--rounds`` runs taken in turns.

    python -m bench.parser_throughput [--mb 100] [--chunk 65536] [--rounds 3] [--endings lf]
"""

from __future__ import annotations

import argparse
import codecs
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conformance.parser import Parser

MB = 1_000_000


ENDINGS = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}


def typical_stream(megabytes: float, ending: bytes = b"\n") -> tuple[bytes, int]:
    """Events like the reference's, with ids, until the stream has at least ``megabytes``."""
    target = int(megabytes * MB)
    parts: list[bytes] = []
    size = 0
    n = 0
    while size < target:
        n += 1
        pct = (n * 37) % 1000 / 10
        used = 23.54 * pct / 100
        second = n % 60
        minute = n // 60 % 60
        stamp = f"2026-11-25 17:{minute:02d}:{second:02d}"
        text = f"{stamp} - RAM usage: {pct:.1f}% ({used:.2f}GB / 23.54GB)"
        block = f'id: {n}\ndata: "{text}"\n\n'.encode().replace(b"\n", ending)
        parts.append(block)
        size += len(block)
    return b"".join(parts), n


@dataclass(frozen=True)
class Result:
    name: str
    seconds: float
    events: int
    first: tuple[str, str]  # (data, id) of the first event
    last: tuple[str, str]


def run_ours(chunks: Sequence[bytes]) -> Result:
    parser = Parser()
    count = 0
    first: tuple[str, str] = ("", "")
    last: tuple[str, str] = ("", "")
    start = time.process_time()
    for chunk in chunks:
        events = parser.feed(chunk)
        if events:
            if not count:
                first = (events[0].data, events[0].last_event_id)
            count += len(events)
            last = (events[-1].data, events[-1].last_event_id)
    parser.close()
    return Result("conformance.parser", time.process_time() - start, count, first, last)


def run_httpx_sse(chunks: Sequence[bytes]) -> Result:
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line_decoder = SSELineDecoder()
    decoder = SSEDecoder()
    count = 0
    first: tuple[str, str] = ("", "")
    last: tuple[str, str] = ("", "")
    start = time.process_time()
    for chunk in chunks:
        for line in line_decoder.decode(text_decoder.decode(chunk)):
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                if not count:
                    first = (sse.data, sse.id)
                count += 1
                last = (sse.data, sse.id)
    for line in line_decoder.flush():
        sse = decoder.decode(line.rstrip("\n"))
        if sse is not None:
            count += 1
            last = (sse.data, sse.id)
    return Result("httpx-sse SSEDecoder", time.process_time() - start, count, first, last)


def best_of_interleaved(
    runs: Sequence[Callable[[Sequence[bytes]], Result]], chunks: Sequence[bytes], rounds: int
) -> list[Result]:
    """Best time of each run over ``rounds``, taking turns so both see the same machine load."""
    best: list[Result | None] = [None] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            result = run(chunks)
            current = best[i]
            if current is None or result.seconds < current.seconds:
                best[i] = result
    return [r for r in best if r is not None]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.parser_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--mb", type=float, default=100.0, help="stream size in MB (default 100)")
    parser.add_argument(
        "--chunk", type=int, default=64 << 10, help="chunk size in bytes (default 65536)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per parser, taking turns; the best is kept"
    )
    parser.add_argument(
        "--endings", choices=sorted(ENDINGS), default="lf", help="line endings (default lf)"
    )
    args = parser.parse_args(argv)
    if args.mb <= 0 or args.chunk <= 0 or args.rounds <= 0:
        print("error: --mb, --chunk and --rounds must be positive", file=sys.stderr)
        return 2
    try:
        import httpx_sse  # noqa: F401
    except ImportError:
        print("error: httpx-sse is not installed (pip install -e '.[bench]')", file=sys.stderr)
        return 2

    data, expected = typical_stream(args.mb, ENDINGS[args.endings])
    chunks = [data[i : i + args.chunk] for i in range(0, len(data), args.chunk)]
    size_mb = len(data) / MB
    print(
        f"stream: {size_mb:.1f} MB, {args.endings.upper()} endings, {expected} events, "
        f"{len(chunks)} chunks of {args.chunk} bytes"
    )
    ours, theirs = best_of_interleaved((run_ours, run_httpx_sse), chunks, args.rounds)
    for result in (ours, theirs):
        print(
            f"{result.name:22s} {size_mb / result.seconds:8.1f} MB/s  "
            f"{result.seconds:7.2f} s CPU  {result.events} events"
        )
    print(f"ratio (ours / httpx-sse throughput): {theirs.seconds / ours.seconds:.2f}x")
    agree = (
        (ours.events, ours.first, ours.last)
        == (theirs.events, theirs.first, theirs.last)
        == (
            expected,
            ours.first,
            ours.last,
        )
    )
    if not agree:
        print(
            f"MISMATCH: expected {expected} events; ours {ours}; httpx-sse {theirs}",
            file=sys.stderr,
        )
        return 1
    print("both yield the same events (count, first, last)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
