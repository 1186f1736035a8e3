"""OpenAI-compatible chat-completion streams (the ``openai-chat`` profile).

Why a check of its own: the most common SSE stream in the wild is a chat completion, and its
clients (the OpenAI SDKs, LangChain, every "compatible" server's users) parse each ``data`` as a
``chat.completion.chunk`` and read ``choices[0].delta``. A server that sends the non-streaming
shape (``message`` instead of ``delta``), an error object in the middle of the stream, or no
``finish_reason`` before ``[DONE]`` is valid SSE and still breaks those clients. The framing part
(``[DONE]`` last, then the response ends) is judged by payload.sentinel and stream.closes.

Runs only when the profile sets ``contract = "openai-chat"`` (the built-in ``openai-chat`` profile).
"""

from __future__ import annotations

import json
from typing import Any

from conformance.capture.model import TimedEvent
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    event_evidence,
    expected_events,
    plural,
    require_expected,
)
from conformance.checks.registry import READS_EXPECTED, check
from conformance.models import Outcome, Severity, passed, problem, skipped, warning

CONTRACT = "openai-chat"
SPEC_OPENAI_STREAMING = "https://platform.openai.com/docs/api-reference/chat-streaming"
# Chunks that legitimately carry no choice: the usage chunk of stream_options.include_usage, and
# Azure OpenAI's content-filter results that precede the first token.
EMPTY_CHOICES_OK = ("usage", "prompt_filter_results")


def chunk_problem(data: str) -> str | None:
    """Why ``data`` is not a usable chat.completion.chunk, or None when it is. Never raises."""
    try:
        obj: Any = json.loads(data)
    except ValueError:
        return "not JSON"
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    if "error" in obj:
        error = obj["error"]
        message = error.get("message") if isinstance(error, dict) else error
        return f"an error object mid-stream: {message!r}"
    choices = obj.get("choices")
    if not isinstance(choices, list):
        return "no 'choices' array"
    if not choices:
        if any(key in obj for key in EMPTY_CHOICES_OK):
            return None
        return "an empty 'choices' array without 'usage'"
    first = choices[0]
    if not isinstance(first, dict):
        return "choices[0] is not an object"
    if not isinstance(first.get("delta"), dict):
        if "message" in first:
            return "choices[0] has 'message' (the non-streaming shape), not 'delta'"
        return "choices[0] has no 'delta' object"
    return None


def finish_reason(data: str) -> str | None:
    """Never raises."""
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        reason = choices[0].get("finish_reason")
        return reason if isinstance(reason, str) else None
    return None


@check(
    "openai.chunk",
    "Every chunk is a chat.completion.chunk with choices[0].delta",
    SPEC_OPENAI_STREAMING,
    Severity.MUST,
    per_client=True,
    reads=READS_EXPECTED,
    doc="""skip: the profile is not an OpenAI chat stream (contract openai-chat), or no 200 stream.
    pass: every data before the `[DONE]` sentinel is a JSON object whose `choices[0].delta` is an
    object (a usage or content-filter chunk may have empty `choices`), and one chunk carries a
    `finish_reason`. fail: a chunk that is not JSON, not an object, an `error` object, or has no
    `delta` (e.g. the non-streaming `message` shape); no chunk at all. warn: no `finish_reason`
    before `[DONE]` (the answer may have been cut off).""",
)
def chunk(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    profile, cap = ctx.profile, ctx.capture
    if profile.contract != CONTRACT:
        return skipped("not an OpenAI chat stream (profile contract openai-chat)")
    if (early := require_expected(ctx)) is not None:
        return early
    chunks = [e for e in expected_events(ctx) if not profile.is_sentinel(e.data)]
    if not chunks:
        return problem(f"no chunk before the sentinel ({plural(len(cap.events), 'event')} in all)")
    bad: list[tuple[TimedEvent, str]] = []
    for event in chunks:
        why = chunk_problem(event.data)
        if why is not None:
            bad.append((event, why))
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {len(chunks)} chunks are not usable chat.completion.chunk objects; "
            f"event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    reasons = [r for r in (finish_reason(e.data) for e in chunks) if r is not None]
    if not reasons:
        return warning(
            f"{plural(len(chunks), 'chunk')}, none with a finish_reason: the answer may have been cut off",
            event_evidence(cap, chunks[-1]),
        )
    return passed(
        f"{plural(len(chunks), 'chunk')}, each with choices[0].delta; finish_reason {reasons[-1]!r}"
    )
