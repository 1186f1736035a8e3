"""A deliberately minimal SSE server (raw asyncio, one shared tick): its per-stream cost is one
``transport.write`` of pre-encoded bytes per tick, every stream in the same burst. It shows what a
single burst of N events per tick costs, the load generator's reading of it included (the
reference spreads its streams over the interval instead)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class FanoutProtocol(asyncio.Protocol):
    def __init__(self, clients: set[asyncio.Transport]) -> None:
        self.clients = clients
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport in self.clients:
            return
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            self.transport.write(HEAD + chunk(b'data: "start"\n\n'))
            self.clients.add(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.clients.discard(self.transport)


async def serve(
    host: str, port: int, interval: float, batch: int = 1, slices: int = 1, reuse_port: bool = False
) -> None:
    """Every ``interval``, one write per stream; with ``slices`` > 1 the streams are spread
    over that many phases of the interval (a stream's phase is fixed by when it came), so a
    client sees reads spread over the interval instead of one burst."""
    loop = asyncio.get_running_loop()
    clients: set[asyncio.Transport] = set()
    server = await loop.create_server(
        lambda: FanoutProtocol(clients), host, port, backlog=4096, reuse_port=reuse_port or None
    )
    phase: dict[asyncio.Transport, int] = {}
    n = 0
    start = loop.time()
    tick = interval / slices
    async with server:
        while True:
            n += 1
            await asyncio.sleep(max(0.0, start + n * tick - loop.time()))
            current = n % slices
            sequence = n // slices
            if batch == 1:
                data = chunk(b'data: "tick %d"\n\n' % sequence)
            else:  # --batch: K events (consecutive ids) in one write, for a cheap fast server
                first = sequence * batch
                data = chunk(
                    b"".join(
                        b'id: %d\ndata: "tick %d"\n\n' % (first + j, sequence) for j in range(batch)
                    )
                )
            for transport in list(clients):
                if slices > 1:
                    slot = phase.setdefault(transport, len(phase) % slices)
                    if slot != current:
                        continue
                if not transport.is_closing():
                    transport.write(data)
                else:
                    phase.pop(transport, None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=1, help="events per stream per tick")
    parser.add_argument("--slices", type=int, default=1, help="phases per interval (1: burst)")
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="SO_REUSEPORT: several copies share the port (each under its own descriptor limit)",
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(
            serve(
                args.host,
                args.port,
                args.interval,
                max(1, args.batch),
                max(1, args.slices),
                reuse_port=args.reuse_port,
            )
        )
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
