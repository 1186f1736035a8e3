"""A small Anthropic Messages API server, good and broken, for the anthropic-messages profile.

Each variant is the good stream with exactly one thing changed, so a test can say which checks
must fail and that nothing else does. The good stream is what the API sends for a text answer:
``message_start``, a ``ping``, ``content_block_start`` (index 0), ``content_block_delta`` per
token (another ``ping`` among them), ``content_block_stop``, ``message_delta`` with the
``stop_reason``, ``message_stop``; every event ``event: TYPE`` with ``"type": TYPE``; then the
response ends. Like the API, it answers 400 without the ``anthropic-version`` header and the
non-streaming JSON message without ``"stream": true``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.integrations.fake_api import paced_sse, post_app

PATH = "/v1/messages"
MESSAGE_ID = "msg_fake0001"
TOKENS = ["1", "\n2", "\n3", "\n4", "\n5"]
TEXT = "".join(TOKENS)
TOOL_INPUT = ['{"city": ', '"Par', 'is"}']
VARIANTS = (
    "good",
    "tool-use",  # valid: a text block, then a tool_use block (index 1) with input_json_delta
    "unnamed",  # no `event:` lines (a proxy that keeps only data:)
    "no-stop",  # message_stop never sent
    "delta-before-start",  # the first delta before its content_block_start
    "index-mismatch",  # block 0's deltas and stop say index 1
    "error-midstream",  # an overloaded_error event after two deltas, then the response ends
)
Event = dict[str, Any]  # the data; the event name is its "type"


def message(content: list[dict[str, Any]], stop_reason: str | None) -> dict[str, Any]:
    return {
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 21,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1 if stop_reason is None else 9,
        },
    }


def text_block(index: int, tokens: list[str], *, delta_index: int | None = None) -> list[Event]:
    at = index if delta_index is None else delta_index
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
        *(
            {"type": "content_block_delta", "index": at, "delta": {"type": "text_delta", "text": t}}
            for t in tokens
        ),
        {"type": "content_block_stop", "index": at},
    ]


def tool_block(index: int) -> list[Event]:
    start = {
        "type": "content_block_start",
        "index": index,
        "content_block": {
            "type": "tool_use",
            "id": "toolu_fake01",
            "name": "get_weather",
            "input": {},
        },
    }
    deltas = [
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "input_json_delta", "partial_json": p},
        }
        for p in TOOL_INPUT
    ]
    return [start, *deltas, {"type": "content_block_stop", "index": index}]


def events(variant: str) -> list[Event]:
    ping: Event = {"type": "ping"}
    blocks = text_block(0, TOKENS, delta_index=1 if variant == "index-mismatch" else None)
    blocks.insert(3, ping)  # a ping between two deltas
    stop_reason = "end_turn"
    if variant == "tool-use":
        blocks += tool_block(1)
        stop_reason = "tool_use"
    if variant == "delta-before-start":
        blocks[0], blocks[1] = blocks[1], blocks[0]
    out: list[Event] = [
        {"type": "message_start", "message": message([], None)},
        ping,
        *blocks,
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    if variant == "no-stop":
        out.pop()
    if variant == "error-midstream":
        cut = 2 + 4  # message_start, ping, block start, 2 deltas, the ping between deltas
        out[cut:] = [
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        ]
    return out


def frames(variant: str) -> list[bytes]:
    """The stream's bytes, one SSE event per item."""
    out = []
    for data in events(variant):
        name = "" if variant == "unnamed" else f"event: {data['type']}\n"
        out.append(f"{name}data: {json.dumps(data)}\n\n".encode())
    return out


def anthropic_app(variant: str = "good", *, delay: float = 0.04) -> Starlette:
    """The fake: ``POST /v1/messages``; ``app.state.requests`` records each request seen."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    requests: list[dict[str, Any]] = []

    def error(status: int, kind: str, text: str) -> JSONResponse:
        body = {"type": "error", "error": {"type": kind, "message": text}}
        return JSONResponse(body, status_code=status)

    async def create(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "invalid_request_error", "body is not JSON")
        requests.append({"headers": dict(request.headers), "body": body})
        if "anthropic-version" not in request.headers:
            return error(400, "invalid_request_error", "anthropic-version: header is required")
        if not isinstance(body, dict) or not body.get("messages") or "max_tokens" not in body:
            return error(400, "invalid_request_error", "messages and max_tokens are required")
        if not body.get("stream"):
            return JSONResponse(message([{"type": "text", "text": TEXT}], "end_turn"))
        return paced_sse(frames(variant), delay)

    return post_app(PATH, create, requests)
