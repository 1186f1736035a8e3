"""Quart's "Server Sent Events" how-to: an async generator in ``make_response`` with the
event-stream headers, on Quart's own server (hypercorn)."""

import asyncio
import sys
from collections.abc import AsyncGenerator

from quart import Quart, make_response
from quart.wrappers import Response

app = Quart(__name__)


@app.get("/sse")
async def sse() -> Response:
    async def send_events() -> AsyncGenerator[bytes, None]:
        for i in range(5):
            yield f"data: {i}\n\n".encode()
            await asyncio.sleep(0.1)

    response = await make_response(
        send_events(),
        {
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Transfer-Encoding": "chunked",
        },
    )
    assert isinstance(response, Response)  # for the type checker: make_response's union
    response.timeout = None
    return response


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
