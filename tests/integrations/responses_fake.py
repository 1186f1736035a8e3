"""A small OpenAI Responses API server, good and broken, for the openai-responses profile.

Each variant is the good stream with exactly one thing changed, so a test can say which checks
must fail and that nothing else does. The good stream is what the API sends for a text answer
(and what the official SDK's stream helper rebuilds a response from): ``response.created``,
``response.in_progress``, ``response.output_item.added`` (a message), ``response.content_part.added``,
``response.output_text.delta`` per token, ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done``, ``response.completed``; every
event ``event: TYPE`` with ``"type": TYPE`` and ``sequence_number`` 0, 1, 2...; then the response
ends. A request without ``"stream": true`` gets the non-streaming JSON answer, as from the API.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.integrations.fake_api import paced_sse, post_app

PATH = "/v1/responses"
RESPONSE_ID = "resp_fake0001"
ITEM_ID = "msg_fake0001"
TOKENS = ["1", "\n2", "\n3", "\n4", "\n5"]
TEXT = "".join(TOKENS)
VARIANTS = (
    "good",
    "incomplete",  # valid: ends with response.incomplete (max_output_tokens)
    "name-mismatch",  # text deltas named response.text.delta (the old beta name)
    "sequence",  # two sequence_numbers swapped
    "no-terminal",  # response.completed never sent
    "done",  # a Chat Completions `data: [DONE]` after response.completed
    "error",  # an error event, then response.failed
    "unannounced-delta",  # the first delta before response.output_item.added
)
Event = tuple[str, dict[str, Any]]  # (event name, data without sequence_number)


def response_object(status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1764090000,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": 64,
        "model": "gpt-4o-mini-2024-07-18",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }
    obj.update(extra)
    return obj


def message_item(status: str, text: str | None) -> dict[str, Any]:
    content = [] if text is None else [output_text(text)]
    return {
        "id": ITEM_ID,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def text_part(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "item_id": ITEM_ID, "output_index": 0, "content_index": 0, **fields}


def events(variant: str) -> list[Event]:
    delta_name = "response.text.delta" if variant == "name-mismatch" else None
    added: Event = (
        "response.output_item.added",
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": message_item("in_progress", None),
        },
    )
    deltas: list[Event] = [
        (
            delta_name or "response.output_text.delta",
            text_part("response.output_text.delta", delta=token, logprobs=[]),
        )
        for token in TOKENS
    ]
    out: list[Event] = [
        (
            "response.created",
            {"type": "response.created", "response": response_object("in_progress", [])},
        ),
        (
            "response.in_progress",
            {"type": "response.in_progress", "response": response_object("in_progress", [])},
        ),
        added,
        (
            "response.content_part.added",
            text_part("response.content_part.added", part=output_text("")),
        ),
        *deltas,
        (
            "response.output_text.done",
            text_part("response.output_text.done", text=TEXT, logprobs=[]),
        ),
        (
            "response.content_part.done",
            text_part("response.content_part.done", part=output_text(TEXT)),
        ),
        (
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": message_item("completed", TEXT),
            },
        ),
    ]
    usage = {
        "input_tokens": 15,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 24,
    }
    final_output = [message_item("completed", TEXT)]
    if variant == "unannounced-delta":
        out.remove(added)
        out.insert(out.index(deltas[0]) + 1, added)
    if variant == "error":
        at = out.index(deltas[2])
        out[at:] = [
            (
                "error",
                {
                    "type": "error",
                    "code": "server_error",
                    "message": "The server had an error while processing your request.",
                    "param": None,
                },
            ),
            (
                "response.failed",
                {
                    "type": "response.failed",
                    "response": response_object(
                        "failed",
                        [],
                        error={
                            "code": "server_error",
                            "message": "The server had an error while processing your request.",
                        },
                    ),
                },
            ),
        ]
    elif variant == "incomplete":
        out.append(
            (
                "response.incomplete",
                {
                    "type": "response.incomplete",
                    "response": response_object(
                        "incomplete",
                        final_output,
                        incomplete_details={"reason": "max_output_tokens"},
                        usage=usage,
                    ),
                },
            )
        )
    elif variant != "no-terminal":
        out.append(
            (
                "response.completed",
                {
                    "type": "response.completed",
                    "response": response_object("completed", final_output, usage=usage),
                },
            )
        )
    return out


def frames(variant: str) -> list[bytes]:
    """The stream's bytes, one SSE event per item, with sequence_number in stream order."""
    numbers = list(range(len(events(variant))))
    if variant == "sequence":
        numbers[5], numbers[6] = numbers[6], numbers[5]
    out = []
    for number, (name, data) in zip(numbers, events(variant), strict=True):
        payload = json.dumps({**data, "sequence_number": number})
        out.append(f"event: {name}\ndata: {payload}\n\n".encode())
    if variant == "done":
        out.append(b"data: [DONE]\n\n")
    return out


def responses_app(variant: str = "good", *, delay: float = 0.04) -> Starlette:
    """The fake: ``POST /v1/responses``; ``app.state.requests`` records each request seen."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    requests: list[dict[str, Any]] = []

    async def create(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": {"message": "body is not JSON"}}, status_code=400)
        requests.append({"headers": dict(request.headers), "body": body})
        if not isinstance(body, dict) or "input" not in body:
            return JSONResponse(
                {"error": {"message": "Missing required parameter: 'input'.", "code": None}},
                status_code=400,
            )
        if not body.get("stream"):
            return JSONResponse(response_object("completed", [message_item("completed", TEXT)]))
        return paced_sse(frames(variant), delay)

    return post_app(PATH, create, requests)
