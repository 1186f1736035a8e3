"""Hostile streams for the memory and time measurements of issue 16 (points 1-3).

Each handler is bounded: it writes a fixed amount (or stops when the client leaves) and runs in a
test server on loopback. :func:`measure` runs the CLI as a subprocess and samples its peak RSS
with psutil, so the numbers are the CLI process's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from testing.rawhttp import ClientGone, Exchange, Handler

MB = 1_000_000
CHUNKED_SSE = [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")]


def data_lines(total: int, event_bytes: int = 1000) -> Handler:
    """``total`` bytes of events of about ``event_bytes`` each, in 1 MB writes, then the end."""
    line = b"data: " + b"x" * (event_bytes - 8) + b"\n\n"
    block = line * max(1, MB // len(line))

    async def handler(ex: Exchange) -> None:
        await ex.send_head(200, CHUNKED_SSE)
        sent = 0
        while sent < total:
            await ex.send_body(block)
            sent += len(block)
        await ex.end_body()

    return handler


def one_long_line(size: int) -> Handler:
    """One event whose data line is ``size`` bytes long."""

    async def handler(ex: Exchange) -> None:
        await ex.send_head(200, CHUNKED_SSE)
        await ex.send_body(b"data: ")
        piece = b"y" * MB
        for _ in range(size // MB):
            await ex.send_body(piece)
        await ex.send_body(b"\n\n")
        await ex.end_body()

    return handler


def tiny_events(count: int) -> Handler:
    """``count`` events of one byte of data each."""
    block = b"data: z\n\n" * 100_000

    async def handler(ex: Exchange) -> None:
        await ex.send_head(200, CHUNKED_SSE)
        for _ in range(count // 100_000):
            await ex.send_body(block)
        await ex.end_body()

    return handler


def numbered_events(count: int) -> Handler:
    """``count`` events of one byte of data, each with its own id (1, 2, ...)."""

    async def handler(ex: Exchange) -> None:
        await ex.send_head(200, CHUNKED_SSE)
        for start in range(0, count, 100_000):
            stop = min(start + 100_000, count)
            await ex.send_body(b"".join(b"id: %d\ndata: z\n\n" % n for n in range(start, stop)))
        await ex.end_body()

    return handler


def gzip_bomb(decoded: int) -> Handler:
    """A gzip body that inflates to ``decoded`` bytes of blank lines: one full-flushed block of
    1 MiB repeated (identical bytes, since a full flush resets the compressor), about 1 KB each
    on the wire, so the server sends ~1 MB per GB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = comp.compress(b"") + comp.flush(zlib.Z_SYNC_FLUSH)
    block = comp.compress(b"\n" * (1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)

    async def handler(ex: Exchange) -> None:
        await ex.send_head(
            200,
            [*CHUNKED_SSE, ("Content-Encoding", "gzip")],
        )
        await ex.send(b"%x\r\n%s\r\n" % (len(head), head))
        wire = b"%x\r\n%s\r\n" % (len(block) * 64, block * 64)
        with_blocks = 0
        try:
            while with_blocks < decoded >> 20:
                await ex.send(wire)
                with_blocks += 64
        except ClientGone:
            return
        await ex.end_body()

    return handler


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds
    peak_rss: int  # bytes
    code: int
    output: str


def measure(argv: Sequence[str], *, timeout: float = 120.0, pythonpath: str = "") -> Measured:
    """Run ``python -m conformance ARGV`` and sample its RSS every 20 ms (bounded by timeout)."""
    env = dict(os.environ)
    cwd = None
    if pythonpath:  # another copy of the suite (a before/after measurement): not this checkout
        env["PYTHONPATH"] = pythonpath
        cwd = pythonpath
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
    )
    peak = [0]
    ps = psutil.Process(proc.pid)

    def sample() -> None:
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], ps.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    sampler.join(5)
    return Measured(
        time.monotonic() - started, peak[0], proc.returncode, out.decode(errors="replace")
    )
