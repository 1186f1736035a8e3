"""What the ram-monitor stream says, and the SSE bytes it is written as (no I/O).

The texts mirror the reference's (a greeting, 20 samples, the sentinel); :func:`encode_event`
builds one event block with every framing choice a known-bad server may get wrong, and the
splitters cut a block into the writes a server makes.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable

STARTING = "Starting system RAM monitoring..."
SENTINEL = "RAM monitoring completed"
SAMPLES = 20


def ram_sample(index: int, when: float | None = None) -> str:
    """One well-formed sample: 16 GB total, usage creeping up, U = T*P/100 rounded like the reference."""
    total = 16.0
    percent = round(30.0 + 0.7 * index, 1)
    used = round(total * percent / 100, 2)
    stamp = time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(time.time() if when is None else when)
    )
    return f"{stamp} - RAM usage: {percent}% ({used:.2f}GB / {total:.2f}GB)"


def ram_messages(samples: int = SAMPLES) -> list[str]:
    """The 22 texts of one ram-monitor run (before JSON encoding)."""
    return [STARTING, *(ram_sample(i) for i in range(samples)), SENTINEL]


def encode_event(
    data: str,
    *,
    eol: bytes = b"\n",
    event: str | None = None,
    event_id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
    terminate: bool = True,
    space: bytes = b" ",
) -> bytes:
    """One event block; ``terminate=False`` leaves out the blank line that dispatches it."""
    lines: list[bytes] = []
    if comment is not None:
        lines.append(b":" + comment.encode())
    if retry is not None:
        lines.append(b"retry: %d" % retry)
    if event_id is not None:
        lines.append(b"id: " + event_id.encode())
    if event is not None:
        lines.append(b"event: " + event.encode())
    lines += [b"data:" + space + line.encode() for line in data.split("\n")]
    block = eol.join(lines) + eol
    return block + eol if terminate else block


def json_text(index: int, text: str) -> str:
    """The reference's encoding: every message is a JSON string."""
    return json.dumps(text)


def plain_text(index: int, text: str) -> str:
    """The text as is: not JSON (what a server that forgot json.dumps sends)."""
    return text


Splitter = Callable[[bytes], list[bytes]]
"""A function that cuts one event block into the writes a server makes."""


def split_every(size: int) -> Splitter:
    """Writes of ``size`` bytes (1: byte at a time)."""
    return lambda block: [block[i : i + size] for i in range(0, len(block), size)]


def split_after_cr(block: bytes) -> list[bytes]:
    """Cut right after every CR, so each CRLF straddles two writes (and two TCP segments)."""
    pieces = block.split(b"\r")
    return [p + b"\r" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


def gzip_whole(data: bytes) -> bytes:
    """The whole body in one gzip member (what a server that compresses after collecting sends)."""
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH)
