"""aiohttp-sse's README example: ``sse_response(request)`` and ``resp.send(data)`` per event, on
aiohttp's own server (each event carries the server time, so a reconnect gets other data)."""

import asyncio
import sys
from datetime import datetime

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response


async def hello(request: web.Request) -> EventSourceResponse:
    async with sse_response(request) as resp:
        for _ in range(5):
            data = f"Server Time : {datetime.now()}"
            await resp.send(data)
            await asyncio.sleep(0.1)
    return resp


app = web.Application()
app.router.add_route("GET", "/hello", hello)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
