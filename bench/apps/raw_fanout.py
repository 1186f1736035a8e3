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


async def serve(host: str, port: int, interval: float, batch: int = 1) -> None:
    loop = asyncio.get_running_loop()
    clients: set[asyncio.Transport] = set()
    server = await loop.create_server(lambda: FanoutProtocol(clients), host, port, backlog=4096)
    n = 0
    start = loop.time()
    async with server:
        while True:
            n += 1
            await asyncio.sleep(max(0.0, start + n * interval - loop.time()))
            if batch == 1:
                data = chunk(b'data: "tick %d"\n\n' % n)
            else:  # --batch: K events (consecutive ids) in one write, for a cheap fast server
                first = n * batch
                data = chunk(
                    b"".join(b'id: %d\ndata: "tick %d"\n\n' % (first + j, n) for j in range(batch))
                )
            for transport in list(clients):
                if not transport.is_closing():
                    transport.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=1, help="events per stream per tick")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.interval, max(1, args.batch)))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
