"""Known-bad servers that a knob of :class:`~testing.sse_response.SseResponse` cannot express.

They need state shared across connections (a generator shared by all clients, a server that
wedges after a client aborts), or answer something other than a stream (silence, a redirect).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from testing.rawhttp import ClientGone, Exchange, Handler
from testing.sse_response import SseResponse

GOOD = SseResponse()
"""The known-good stream at the test pace: what these servers serve when not told otherwise."""


async def never_answer(ex: Exchange) -> None:
    """Accept, read the request, say nothing, until the client gives up."""
    await ex.wait_gone()


def shared_generator(spec: SseResponse = GOOD) -> Handler:
    """One message source for the whole server: concurrent clients split the messages between them.

    The classic bug of a generator (or queue) created once at module level instead of per request.
    """
    lock = asyncio.Lock()
    source: dict[str, Iterator[bytes]] = {}

    async def handler(ex: Exchange) -> None:
        await ex.send_head(spec.status, spec.head(), version=spec.version)
        # Created lazily, once: it lives as long as the server, shared by every connection.
        blocks = source.setdefault("it", spec.blocks())
        first = True
        while True:
            if not first:
                await ex.pause(spec.interval)
            first = False
            async with lock:
                block = next(blocks, None)
            if block is None:
                break
            await ex.send_body(block)
        await ex.end_body()

    return handler


def wedge_after_abort(spec: SseResponse = GOOD) -> Handler:
    """Serve correctly until one client aborts mid-stream; from then on accept but never answer.

    Models a server whose per-client cleanup deadlocks (a lock held by the dead generator, a
    worker pool exhausted by streams that are never cancelled).
    """
    state: dict[str, bool] = {"wedged": False}

    async def handler(ex: Exchange) -> None:
        if state["wedged"]:
            await ex.wait_gone()
        try:
            await spec(ex)
        except ClientGone:
            state["wedged"] = True
            ex.state.aborted_mid_stream += 1
            raise

    return handler


def redirect_to(location: str, status: int = 302) -> Handler:
    async def handler(ex: Exchange) -> None:
        await ex.send_head(
            status, [("Location", location), ("Content-Length", "0"), ("Connection", "close")]
        )

    return handler
