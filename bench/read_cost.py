"""Where the load generator's CPU goes per read: the read path against its floor.

A raw fan-out server (``bench/apps/raw_fanout.py``, pinned to CPU 0) writes one event per write to
``--streams`` streams every ``--interval`` seconds, as an LLM gateway writes one token. Each
variant runs in its own process pinned to CPU 1, holds the streams, and measures its own user and
system CPU time (``resource.getrusage``) over ``--hold`` seconds once every stream is open:

* ``protocol``: today's :class:`~conformance.load.client.LoadStream` (an ``asyncio.Protocol``)
  under uvloop, every read de-chunked and parsed;
* ``buffered``: the same work as an ``asyncio.BufferedProtocol`` (uvloop reads into one
  preallocated buffer: no bytes object per read, but two Python calls per read);
* ``epoll-parse``: a bare ``select.epoll`` loop, ``socket.recv`` and the same ``data_received``;
* ``epoll``: the floor: ``select.epoll`` + ``socket.recv_into`` and a clock call per read, no
  parsing (blank lines counted in C);
* ``protocol:OPTION``: the protocol variant with a socket option set on every connection:
  ``quickack0`` (``TCP_QUICKACK`` off once), ``rcvbuf=N`` (``SO_RCVBUF``), ``rcvlowat=N``;
  ``epoll:quickack0-each`` turns ``TCP_QUICKACK`` off before every read of the floor.

Variants run interleaved, ``--repeat`` times, against the same server; the table gives medians.
The segment counters (``/proc/net/snmp``, whole machine) tell how many ACKs the client sends per
read. Events per CPU-second are what ``bench.generator_cost`` reports end to end. ``--batches
1,4`` repeats the table with 4 events per write (every 4 intervals: the same events per second).

What it found (2 cores, median of three; README, ``nox -s bench``): the floor without parsing
gives about 134,000 events per CPU-second, 6 µs of it system time per read, half of that the ACK
Linux sends when the reader empties a queue holding a small segment (``perf``: ``tcp_recvmsg`` ->
``__tcp_transmit_skb``; on loopback the server socket's handling of it runs on the reader's CPU).
The BufferedProtocol and the bare epoll loop are within noise of the Protocol (~60,000).

    python -m bench.read_cost [--streams 2000] [--interval 0.05] [--hold 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import select
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.pinning import LOADGEN_CPU, pin_to
from conformance.load.client import LoadStream
from conformance.load.httpwire import Framing, _Chunk
from conformance.load.process import new_event_loop, quiet_gc, raise_fd_limit
from conformance.load.stats import missing_between

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VARIANTS = ("protocol", "buffered", "epoll-parse", "epoll")
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
SETTLE = 1.0  # seconds after the last stream opened before the measurement starts
OPEN_LIMIT = 60.0  # seconds for every stream to open


class Counting:
    """The cheapest listener: counts reads with events and events (a pool does more)."""

    def __init__(self, streams: int = 0) -> None:
        self.streams = streams
        self.opened = 0
        self.reads = 0
        self.events = 0
        self.all_open: asyncio.Event | None = None

    def stream_opened(self, stream: LoadStream) -> None:
        self.opened += 1
        if self.opened >= self.streams and self.all_open is not None:
            self.all_open.set()

    def stream_events(self, stream: LoadStream, now: float, count: int, first: bool) -> None:
        self.reads += 1
        self.events += count
        if len(stream.arrivals) > 64:
            stream.arrivals.clear()

    def stream_closed(self, stream: LoadStream) -> None:
        pass


class BufferedStream(LoadStream, asyncio.BufferedProtocol):
    """The protocol variant as a BufferedProtocol: one buffer shared by every stream (a read is
    consumed before the loop asks for the next buffer), the read de-chunked from it."""

    _buffer = bytearray(1 << 16)
    _view = memoryview(_buffer)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        buf = self._buffer
        reader = self.reader
        # the one-chunk fast path of ResponseReader.feed, on the buffer: one bytes object made
        if reader.head_done and reader.framing is Framing.CHUNKED and not reader._line:
            crlf = buf.find(b"\r\n", 0, min(18, nbytes))
            if crlf > 0 and buf.endswith(b"\r\n", 0, nbytes):
                try:
                    size = int(buf[:crlf], 16)
                except ValueError:
                    size = 0
                if size > 0 and nbytes == crlf + size + 4 and reader._chunk is _Chunk.SIZE:
                    self._body(time.monotonic(), self._view[crlf + 2 : nbytes - 2].tobytes())
                    return
        self.data_received(self._view[:nbytes].tobytes())

    def _body(self, now: float, body: bytes) -> None:
        """What ``LoadStream.data_received`` does with a body (copied: the bench compares the
        read mechanisms, the work after them must be the same)."""
        self.last_activity = now
        events = self.parser.feed(body)
        if events:
            first = not self.events
            if first:
                self.first_event_at = now
            self.events += len(events)
            arrivals = self.arrivals
            last_id = self.last_id
            for event in events:
                arrivals.append(now)
                event_id = event.last_event_id
                if event_id != last_id:
                    if last_id:
                        self.missing += missing_between(last_id, event_id)
                    last_id = event_id
            self.last_id = last_id
            self.listener.stream_events(self, now, len(events), first)
        if self.reader.complete and not self.closed:
            self._finish_eof()


def apply_option(sock: socket.socket, option: str) -> None:
    name, _, value = option.partition("=")
    if name == "quickack0":
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
    elif name == "rcvbuf":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(value))
    elif name == "rcvlowat":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, int(value))
    elif name:
        raise ValueError(f"unknown socket option {option!r}")


def tcp_counters() -> dict[str, int]:
    """The machine's TCP segment counters (``/proc/net/snmp``); empty where unreadable."""
    with contextlib.suppress(OSError, ValueError), open("/proc/net/snmp") as fh:
        rows = [line.split() for line in fh if line.startswith("Tcp:")]
        return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:], strict=True)}
    return {}


def snapshot(counts: tuple[int, int]) -> dict[str, float]:
    """CPU times, the clock, reads and events (``counts``), and the machine's segments now."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    segments = tcp_counters()
    return {
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "wall_s": time.monotonic(),
        "reads": counts[0],
        "events": counts[1],
        "out_segs": segments.get("OutSegs", 0),
        "in_segs": segments.get("InSegs", 0),
    }


def difference(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    return {key: after[key] - before[key] for key in before}


# uvloop variants -----------------------------------------------------------------------------
async def hold_uvloop(
    kind: str, option: str, port: int, streams: int, hold: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    listener = Counting(streams)
    listener.all_open = asyncio.Event()
    cls = BufferedStream if kind == "buffered" else LoadStream
    made: list[LoadStream] = []
    gate = asyncio.Semaphore(200)

    async def one() -> None:
        async with gate:
            stream = cls(REQUEST, listener, started=time.monotonic(), min_events=0)
            transport, _ = await loop.create_connection(lambda: stream, "127.0.0.1", port)
            sock = transport.get_extra_info("socket")
            if option and sock is not None:
                apply_option(sock, option)
            made.append(stream)

    await asyncio.gather(*(one() for _ in range(streams)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.all_open.wait(), OPEN_LIMIT)
    await asyncio.sleep(SETTLE)
    before = snapshot((listener.reads, listener.events))
    await asyncio.sleep(hold)
    result = difference(before, snapshot((listener.reads, listener.events)))
    for stream in made:
        stream.abort()
    result["opened"] = listener.opened
    return result


# epoll variants ------------------------------------------------------------------------------
def hold_epoll(parse: bool, option: str, port: int, streams: int, hold: float) -> dict[str, Any]:
    each_read = option == "quickack0-each"  # the floor only: TCP_QUICKACK off before each read
    option = "" if each_read else option
    socks: dict[int, socket.socket] = {}
    for _ in range(streams):
        sock = socket.create_connection(("127.0.0.1", port), 10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        apply_option(sock, option)
        sock.sendall(REQUEST)
        sock.setblocking(False)
        socks[sock.fileno()] = sock
    poller = select.epoll()
    for fd in socks:
        poller.register(fd, select.EPOLLIN)
    listener = Counting()
    streams_by_fd = {
        fd: LoadStream(REQUEST, listener, started=time.monotonic(), min_events=0) for fd in socks
    }
    buf = bytearray(1 << 16)
    totals = [0, 0]  # reads, events (the floor counts blank lines)
    clock = time.monotonic

    def run_for(seconds: float) -> None:
        end = clock() + seconds
        poll = poller.poll
        while (now := clock()) < end:
            for fd, _ in poll(end - now, 1024):
                sock = socks[fd]
                if parse:
                    try:
                        data = sock.recv(1 << 16)
                    except BlockingIOError:
                        continue
                    if not data:
                        poller.unregister(fd)
                        continue
                    streams_by_fd[fd].data_received(data)
                else:
                    if each_read:
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
                    try:
                        n = sock.recv_into(buf)
                    except BlockingIOError:
                        continue
                    if not n:
                        poller.unregister(fd)
                        continue
                    clock()  # the stamp every read needs
                    totals[0] += 1
                    totals[1] += buf.count(b"\n\n", 0, n)

    deadline = clock() + OPEN_LIMIT
    while clock() < deadline:
        run_for(0.05)
        opened = listener.opened if parse else totals[0]
        if opened >= streams:
            break
    run_for(SETTLE)

    def counts() -> tuple[int, int]:
        return (listener.reads, listener.events) if parse else (totals[0], totals[1])

    before = snapshot(counts())
    run_for(hold)
    result = difference(before, snapshot(counts()))
    poller.close()
    for sock in socks.values():
        sock.close()
    return result


def child(variant: str, port: int, streams: int, hold: float) -> dict[str, Any]:
    raise_fd_limit(streams + 256)
    kind, _, option = variant.partition(":")
    with quiet_gc():
        if kind in ("protocol", "buffered"):
            loop = new_event_loop()
            try:
                return loop.run_until_complete(hold_uvloop(kind, option, port, streams, hold))
            finally:
                loop.close()
        if kind in ("epoll", "epoll-parse"):
            return hold_epoll(kind == "epoll-parse", option, port, streams, hold)
    raise ValueError(f"unknown variant {variant!r}")


# the parent ----------------------------------------------------------------------------------
def run_child(variant: str, port: int, streams: int, hold: float) -> dict[str, Any] | None:
    cmd = [sys.executable, "-m", "bench.read_cost", "--child", variant, "--port", str(port),
           "--streams", str(streams), "--hold", str(hold)]  # fmt: skip
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=OPEN_LIMIT + hold + 60,
            preexec_fn=pin_to(LOADGEN_CPU), check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        print(f"  {variant}: timed out", file=sys.stderr)
        return None
    if done.returncode != 0 or not done.stdout.strip():
        print(f"  {variant}: failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def figures(run: dict[str, Any]) -> dict[str, float]:
    reads = max(run["reads"], 1)
    cpu = run["user_s"] + run["sys_s"]
    return {
        "events_per_cpu_s": run["events"] / cpu if cpu else 0.0,
        "user_us_per_read": run["user_s"] / reads * 1e6,
        "sys_us_per_read": run["sys_s"] / reads * 1e6,
        "events_per_read": run["events"] / reads,
        "reads_per_s": run["reads"] / run["wall_s"] if run["wall_s"] else 0.0,
        # server data segments are about one per read; the rest the client sends (ACKs)
        "out_segs_per_read": run["out_segs"] / reads,
        "cpu_percent": cpu / run["wall_s"] * 100 if run["wall_s"] else 0.0,
    }


def table(results: dict[str, list[dict[str, float]]]) -> list[str]:
    head = ("variant", "events/CPU-s", "user us/read", "sys us/read", "events/read", "reads/s",
            "segs/read", "CPU")  # fmt: skip
    lines = ["  ".join(h.rjust(14) for h in head)]
    for variant, runs in results.items():
        if not runs:
            lines.append(f"{variant:>14}  (no run finished)")
            continue

        def med(key: str, rows: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in rows)

        cells = (
            variant,
            f"{med('events_per_cpu_s'):,.0f}",
            f"{med('user_us_per_read'):.2f}",
            f"{med('sys_us_per_read'):.2f}",
            f"{med('events_per_read'):.2f}",
            f"{med('reads_per_s'):,.0f}",
            f"{med('out_segs_per_read'):.2f}",
            f"{med('cpu_percent'):.0f}%",
        )
        lines.append("  ".join(c.rjust(14) for c in cells))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.read_cost", description=__doc__)
    p.add_argument("--streams", type=int, default=2000)
    p.add_argument("--interval", type=float, default=0.05, help="seconds between events")
    p.add_argument("--hold", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    p.add_argument("--batches", default="1", help="events per write, e.g. 1,4 (one run each)")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.port, args.streams, args.hold)))
        return 0
    from bench.generator_cost import server

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    try:
        batches = [max(1, int(b)) for b in args.batches.split(",") if b.strip()]
    except ValueError:
        p.error(f"--batches: whole numbers separated by commas, not {args.batches!r}")
    raise_fd_limit(args.streams + 256)
    results: dict[str, list[dict[str, float]]] = {}
    raw: dict[str, list[dict[str, Any]]] = {}
    for batch in batches:
        # the same events per second: a write of ``batch`` events every ``batch`` intervals
        fanout = ["-m", "bench.apps.raw_fanout", "--interval", str(args.interval * batch),
                  "--batch", str(batch)]  # fmt: skip
        names = {v: v if batch == 1 else f"{v} x{batch}" for v in variants}
        for name in names.values():
            results[name], raw[name] = [], []
        with server(fanout) as port:
            for _ in range(args.repeat):
                for variant, name in names.items():
                    run = run_child(variant, port, args.streams, args.hold)
                    if run is not None:
                        raw[name].append(run)
                        results[name].append(figures(run))
    rate = args.streams / args.interval
    title = (
        f"read cost ({args.streams} streams x {1 / args.interval:g} events/s = {rate:,.0f} "
        f"events/s, one write of 1 event (x N: of N events) per stream; medians of "
        f"{args.repeat}; CPU time of the reader on CPU {LOADGEN_CPU})"
    )
    text = "\n".join([title, *table(results)])
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "read_cost.txt").write_text(text + "\n", encoding="utf-8")
    (args.out / "read_cost.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
