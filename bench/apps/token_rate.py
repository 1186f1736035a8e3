"""A token-rate fake of an OpenAI-compatible chat endpoint: POST, then ``chat.completion.chunk``
events at a configurable rate, then ``data: [DONE]`` and the end of the response.

What a load test of an LLM gateway meets, without a GPU: each stream is one generation of
``--tokens`` chunks at ``--rate`` chunks per second after ``--first-token-delay``; at most
``--slots`` generations run at once (a serving engine's batch), the others wait in line, so time
to first token grows once arrivals outpace ``slots / (tokens / rate)`` per second. Raw asyncio,
one task per stream, pacing on an absolute schedule (no drift). Any path; GET answers 405.

    python -m bench.apps.token_rate --port 8100 --rate 20 --tokens 64 --slots 64
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Sequence

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
NOT_ALLOWED = b"HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Length: 0\r\n\r\n"
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024


def chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def token_event(index: int, *, finish: bool = False) -> bytes:
    delta = {} if finish else {"content": f"t{index} "}
    data = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "token-rate-fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if finish else None}],
    }
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


class TokenServer:
    def __init__(self, *, rate: float, tokens: int, first_token_delay: float, slots: int) -> None:
        self.rate = rate
        self.tokens = tokens
        self.first_token_delay = first_token_delay
        self.slots = asyncio.Semaphore(slots)
        self.events = [chunk(token_event(i)) for i in range(tokens)]
        self.last = (
            chunk(token_event(tokens, finish=True)) + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
        )

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(
            ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError
        ):
            head = await reader.readuntil(b"\r\n\r\n")
            method = head.split(b" ", 1)[0]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and value.strip().isdigit():
                    length = min(int(value.strip()), MAX_BODY)
            if length:
                await reader.readexactly(length)
            if method != b"POST":
                writer.write(NOT_ALLOWED)
                await writer.drain()
                return
            async with self.slots:
                await self.generate(writer)
        writer.close()

    async def generate(self, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        writer.write(HEAD)
        start = loop.time() + self.first_token_delay
        gap = 1.0 / self.rate
        for k, event in enumerate(self.events):
            delay = start + k * gap - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(event)
            if writer.transport.get_write_buffer_size() > 256 * 1024:
                await writer.drain()
        writer.write(self.last)
        await writer.drain()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.apps.token_rate", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--rate", type=float, default=20.0, help="chunks per second per stream")
    p.add_argument("--tokens", type=int, default=64, help="chunks per stream before [DONE]")
    p.add_argument("--first-token-delay", type=float, default=0.05, help="seconds (prefill)")
    p.add_argument("--slots", type=int, default=64, help="generations at once; others queue")
    return p


async def serve(args: argparse.Namespace) -> None:
    app = TokenServer(
        rate=args.rate,
        tokens=args.tokens,
        first_token_delay=args.first_token_delay,
        slots=args.slots,
    )
    server = await asyncio.start_server(app.handle, args.host, args.port, backlog=4096)
    print(f"token-rate fake on http://{args.host}:{args.port}/ ({time.strftime('%X')})", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if not (args.rate > 0 and args.tokens >= 1 and args.slots >= 1 and args.first_token_delay >= 0):
        print(
            "token_rate: --rate > 0, --tokens >= 1, --slots >= 1, --first-token-delay >= 0",
            file=sys.stderr,
        )
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
