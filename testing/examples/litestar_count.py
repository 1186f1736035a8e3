"""Litestar's ServerSentEvent example (docs.litestar.dev, "Server Sent Events"), under uvicorn."""

import sys
from asyncio import sleep
from collections.abc import AsyncGenerator

import uvicorn
from litestar import Litestar, get
from litestar.response import ServerSentEvent


async def my_generator() -> AsyncGenerator[str, None]:
    count = 0
    while count < 10:
        await sleep(0.1)
        count += 1
        yield str(count)


@get(path="/count", sync_to_thread=False)
def sse_handler() -> ServerSentEvent:
    return ServerSentEvent(my_generator())


app = Litestar(route_handlers=[sse_handler])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
