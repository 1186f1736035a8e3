"""A small graphql-sse server (distinct connections mode), good and broken, for the graphql-sse profile.

Each variant is the good server with exactly one thing changed. The good server answers a
subscription with `event: next` results then `event: complete` and ends the response, and a
query that fails validation with a `next` event carrying `errors`, then `complete`, as the
graphql-sse package's own handler does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PATH = "/graphql/stream"
VARIANTS = ("good", "no-complete", "validation-400")
GREETINGS = ["Hi", "Bonjour", "Hola"]


def graphql_app(variant: str = "good", *, delay: float = 0.03) -> Starlette:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")

    async def endpoint(request: Request) -> Response:
        body = await request.json()
        query = str(body.get("query", ""))
        invalid = "greetings" not in query
        if invalid and variant == "validation-400":
            errors = [{"message": "Cannot query field on type Subscription."}]
            return JSONResponse({"errors": errors}, status_code=400)

        async def stream() -> AsyncIterator[bytes]:
            if invalid:
                errors = [{"message": f"Cannot query field in {query!r}."}]
                yield b"event: next\ndata: " + json.dumps({"errors": errors}).encode() + b"\n\n"
            else:
                for hi in GREETINGS:
                    await asyncio.sleep(delay)
                    data = json.dumps({"data": {"greetings": hi}}).encode()
                    yield b"event: next\ndata: " + data + b"\n\n"
            if variant != "no-complete":
                yield b"event: complete\ndata:\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return Starlette(routes=[Route(PATH, endpoint, methods=["POST"])])
