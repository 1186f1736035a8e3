"""OpenAI Responses API streams (the ``openai-responses`` profile).

Why a contract of its own: ``POST /v1/responses`` with ``"stream": true`` streams *semantic*
events, not chat chunks. Each is ``event: TYPE`` plus a JSON object with the same ``"type"`` and a
``sequence_number``; text arrives as ``response.output_text.delta`` events of an output item
announced by ``response.output_item.added``; the stream ends with exactly one of
``response.completed``, ``response.failed`` or ``response.incomplete`` and has no ``data: [DONE]``
(that is Chat Completions'). A server or proxy that gets any of this wrong is valid SSE and still
breaks the OpenAI SDKs' stream helpers (they rebuild the response from the events) or a client
waiting for the terminal event. The checks read only the capture's events.

Runs only when the profile sets ``contract = "openai-responses"`` (the built-in profile beside
this file).
"""

from __future__ import annotations

from typing import Any

from conformance.capture.model import TimedEvent
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    event_evidence,
    plural,
    require_stream,
)
from conformance.checks.payload import ended
from conformance.checks.registry import check
from conformance.contracts.named_events import error_text, judge_names, typed_events
from conformance.models import Outcome, Severity, passed, problem, skipped, warning

CONTRACT = "openai-responses"
SPEC_RESPONSES_STREAMING = "https://platform.openai.com/docs/api-reference/responses-streaming"
SPEC_STREAMING_GUIDE = "https://platform.openai.com/docs/guides/streaming-responses"
SPEC_ERROR_EVENT = "https://platform.openai.com/docs/api-reference/responses-streaming/error"
SPEC_COMPLETED = (
    "https://platform.openai.com/docs/api-reference/responses-streaming/response/completed"
)
SPEC_ITEM_ADDED = (
    "https://platform.openai.com/docs/api-reference/responses-streaming/response/output_item/added"
)
TERMINAL = ("response.completed", "response.failed", "response.incomplete")
DONE = "[DONE]"


def is_done(event: TimedEvent) -> bool:
    """A Chat Completions end marker (``data: [DONE]``): openai.no-done's alone to report."""
    return event.data.strip() == DONE


def not_judged(ctx: CheckContext) -> Outcome | None:
    """The skip every check of this contract starts with: another contract, or no 200 stream."""
    if ctx.profile.contract != CONTRACT:
        return skipped(f"not an OpenAI Responses stream (profile contract {CONTRACT})")
    return require_stream(ctx)


@check(
    "openai.event-name",
    "Every Responses event is named its data's type",
    SPEC_STREAMING_GUIDE,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: the profile is not an OpenAI Responses stream (contract openai-responses), no 200
    stream, or no event. pass: every event (a `data: [DONE]` aside: openai.no-done) has an
    `event:` name equal to its JSON data's `"type"`. fail: an event without a name (type
    `message`), data that is not a JSON object with a string `type`, or a name that differs from
    the type (e.g. an old `response.text.delta` name on a `response.output_text.delta`).""",
)
def event_name(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    return judge_names(ctx.capture, ignore=is_done)


@check(
    "openai.sequence",
    "sequence_number is on every event and strictly rising",
    SPEC_RESPONSES_STREAMING,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an openai-responses profile, no 200 stream, or no typed event. pass: every
    typed event (JSON data with a `type`) carries an integer `sequence_number`, each greater than
    the one before (clients use it to order events and to resume a stream with
    `starting_after`). fail: a missing or non-integer `sequence_number`, or one not greater than
    its predecessor (repeated or going back).""",
)
def sequence(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    typed = typed_events(cap.events)
    if not typed:
        return skipped("no typed event (JSON data with a 'type'): openai.event-name reports it")
    bad: list[tuple[TimedEvent, str]] = []
    previous: int | None = None
    for event, obj in typed:
        number = obj.get("sequence_number")
        if not isinstance(number, int) or isinstance(number, bool):
            bad.append((event, f"{obj['type']} has no integer sequence_number ({number!r})"))
            continue
        if previous is not None and number <= previous:
            bad.append((event, f"sequence_number {number} after {previous} ({obj['type']})"))
        previous = number
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {len(typed)} events break the sequence; event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    numbers = [obj["sequence_number"] for _, obj in typed]
    return passed(f"{plural(len(typed), 'event')}, sequence_number {numbers[0]}..{numbers[-1]}")


@check(
    "openai.terminal",
    "Exactly one terminal event, and it is the last",
    SPEC_COMPLETED,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an openai-responses profile, or no 200 stream. pass: exactly one
    `response.completed`, `response.failed` or `response.incomplete` event, and no typed event
    after it (a `data: [DONE]` is openai.no-done's). warn: the terminal event is
    `response.incomplete` (e.g. `max_output_tokens` reached: the answer is cut off). fail: no
    terminal event (the stream was cut off or the server forgot it: SDK helpers never return a
    final response), more than one, or events after it.""",
)
def terminal(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    typed = typed_events(cap.events, ignore=is_done)
    ends = [(e, obj) for e, obj in typed if obj["type"] in TERMINAL]
    if not ends:
        last = [event_evidence(cap, typed[-1][0])] if typed else []
        return problem(
            f"no terminal event ({', '.join(TERMINAL)}) in {plural(len(typed), 'event')} "
            f"({ended(cap)})",
            *last,
        )
    if len(ends) > 1:
        return problem(
            f"{len(ends)} terminal events: {', '.join(obj['type'] for _, obj in ends)}",
            *(event_evidence(cap, e) for e, _ in ends[:MAX_EVIDENCE]),
        )
    end, obj = ends[0]
    after = [e for e, _ in typed if e.index > end.index]
    if after:
        return problem(
            f"{plural(len(after), 'event')} after the terminal {obj['type']} (event {end.index + 1})",
            event_evidence(cap, end),
            *(event_evidence(cap, e) for e in after[: MAX_EVIDENCE - 1]),
        )
    if obj["type"] == "response.incomplete":
        return warning(
            f"the response ended incomplete ({incomplete_reason(obj)})", event_evidence(cap, end)
        )
    return passed(f"{obj['type']} is the last of {plural(len(typed), 'event')}")


def incomplete_reason(obj: dict[str, Any]) -> str:
    response = obj.get("response")
    details = response.get("incomplete_details") if isinstance(response, dict) else None
    reason = details.get("reason") if isinstance(details, dict) else None
    return f"reason {reason!r}" if reason else "no reason given"


@check(
    "openai.no-done",
    "No data: [DONE] (that ends Chat Completions, not Responses)",
    SPEC_STREAMING_GUIDE,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an openai-responses profile, or no 200 stream. pass: no event's data is
    `[DONE]`: a Responses stream ends with its terminal event. fail: a `data: [DONE]` (a server or
    gateway that mixes in the Chat Completions framing; a client that JSON-parses every data
    breaks on it, and payload.json says so too).""",
)
def no_done(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    done = [e for e in cap.events if is_done(e)]
    if done:
        where = ", ".join(str(e.index + 1) for e in done[:MAX_EVIDENCE])
        return problem(
            f"data: [DONE] (the Chat Completions end marker) as event {where} of {len(cap.events)}",
            *(event_evidence(cap, e) for e in done[:MAX_EVIDENCE]),
        )
    return passed(f"no [DONE] in {plural(len(cap.events), 'event')}")


@check(
    "openai.error",
    "No error event, and the response did not fail",
    SPEC_ERROR_EVENT,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an openai-responses profile, or no 200 stream. pass: no `error` event and no
    `response.failed`. fail: an `error` event (reported with its code and message), or a
    `response.failed` terminal event (with `response.error`'s code and message): the stream is
    well-formed but carries no answer.""",
)
def error(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    typed = typed_events(cap.events)
    errors = [(e, obj) for e, obj in typed if obj["type"] == "error"]
    if errors:
        first, obj = errors[0]
        return problem(
            f"{plural(len(errors), 'error event')}; event {first.index + 1}: {error_text(obj)}",
            *(event_evidence(cap, e, 96) for e, _ in errors[:MAX_EVIDENCE]),
        )
    failed = [(e, obj) for e, obj in typed if obj["type"] == "response.failed"]
    if failed:
        event, obj = failed[0]
        response = obj.get("response")
        why = error_text(response) if isinstance(response, dict) else "no response object"
        return problem(
            f"response.failed (event {event.index + 1}): {why}", event_evidence(cap, event, 96)
        )
    return passed(f"no error event in {plural(len(typed), 'event')}")


def item_id_of(obj: dict[str, Any]) -> str | None:
    item = obj.get("item")
    item_id = item.get("id") if isinstance(item, dict) else None
    return item_id if isinstance(item_id, str) else None


@check(
    "openai.delta-item",
    "Every delta belongs to an output item announced before it",
    SPEC_ITEM_ADDED,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an openai-responses profile, no 200 stream, or no delta event with an
    `item_id`. pass: every `*.delta` event (`response.output_text.delta`,
    `response.function_call_arguments.delta`...) names an `item_id` that a
    `response.output_item.added` announced earlier and no `response.output_item.done` closed yet.
    fail: a delta for an item never announced, announced only later, or already done (the SDK
    stream helpers look the item up and crash).""",
)
def delta_item(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    open_items: set[str] = set()
    done_items: set[str] = set()
    deltas = 0
    bad: list[tuple[TimedEvent, str]] = []
    for event, obj in typed_events(cap.events):
        kind = obj["type"]
        if kind == "response.output_item.added" and (added := item_id_of(obj)) is not None:
            open_items.add(added)
        elif kind == "response.output_item.done" and (closed := item_id_of(obj)) is not None:
            open_items.discard(closed)
            done_items.add(closed)
        elif kind.endswith(".delta") and isinstance(item := obj.get("item_id"), str):
            deltas += 1
            if item in done_items:
                bad.append((event, f"{kind} for item {item!r} after its output_item.done"))
            elif item not in open_items:
                bad.append((event, f"{kind} for item {item!r}, not announced by output_item.added"))
    if not deltas:
        return skipped("no delta event with an item_id")
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {deltas} deltas belong to no open item; event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    return passed(f"{plural(deltas, 'delta')}, each of an announced, open output item")
