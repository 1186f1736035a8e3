"""A small OpenAI-compatible chat-completions server, good and broken, for the openai-chat profile.

Each variant is the good stream with exactly one thing changed, so a test can say which check
must fail and that nothing else does. The good stream follows what OpenAI sends: a role chunk,
content chunks, a chunk with ``finish_reason`` and an empty delta, then ``data: [DONE]``, then the
response ends. A request without ``"stream": true`` gets the non-streaming JSON answer, as from
the real API, so a profile that forgot the flag fails loudly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PATH = "/v1/chat/completions"
TOKENS = ["1", "\n2", "\n3", "\n4", "\n5"]
VARIANTS = (
    "good",
    "usage",
    "no-done",
    "after-done",
    "open-after-done",
    "message-shape",
    "error-midstream",
    "not-json",
    "no-finish",
    "buffered",
    "done-unterminated",
)


def chunk(delta: dict[str, Any], finish: str | None = None, *, shape: str = "delta") -> bytes:
    obj = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1764090000,
        "model": "fake-model",
        "choices": [{"index": 0, shape: delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def frames(variant: str) -> list[bytes]:
    shape = "message" if variant == "message-shape" else "delta"
    out = [chunk({"role": "assistant", "content": ""}, shape=shape)]
    out += [chunk({"content": token}, shape=shape) for token in TOKENS]
    if variant == "error-midstream":
        out.insert(
            3,
            b'data: {"error": {"message": "The server is overloaded", "type": "server_error"}}\n\n',
        )
    if variant == "not-json":
        out.insert(2, b"data: Hello\n\n")
    if variant != "no-finish":
        out.append(chunk({}, "stop", shape=shape))
    if variant == "usage":
        usage = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
        }
        out.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
    if variant == "done-unterminated":
        out.append(b"data: [DONE]\n")
    elif variant != "no-done":
        out.append(b"data: [DONE]\n\n")
    if variant == "after-done":
        out.append(chunk({"content": " late"}))
    return out


def openai_app(variant: str = "good", *, delay: float = 0.04) -> Starlette:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    requests: list[dict[str, Any]] = []

    async def completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": {"message": "body is not JSON"}}, status_code=400)
        requests.append({"headers": dict(request.headers), "body": body})
        if not body.get("stream"):
            return JSONResponse(
                {
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "1 2 3"},
                            "finish_reason": "stop",
                        }
                    ],
                }
            )

        async def stream() -> AsyncIterator[bytes]:
            parts = frames(variant)
            if variant == "buffered":
                await asyncio.sleep(delay * 15)
                yield b"".join(parts)
                return
            for part in parts:
                yield part
                await asyncio.sleep(delay)
            if variant == "open-after-done":
                await asyncio.sleep(60)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    app = Starlette(routes=[Route(PATH, completions, methods=["POST"])])
    app.state.requests = requests
    return app
