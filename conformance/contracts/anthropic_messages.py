"""Anthropic Messages API streams (the ``anthropic-messages`` profile).

Why a contract of its own: ``POST /v1/messages`` with ``"stream": true`` sends a grammar of named
events: ``message_start``; for each content block ``content_block_start``, any number of
``content_block_delta`` and ``content_block_stop``, all with the block's ``index`` (its place in
the final ``content`` array); one or more ``message_delta``; then ``message_stop``. ``ping`` may
come anywhere, and an ``error`` event (e.g. ``overloaded_error``) may end the stream early. The
SDKs rebuild the message from that grammar and drop events without an ``event:`` name, so a
server or proxy that reorders, renumbers or strips events is valid SSE and still breaks them.
The checks read only the capture's events; event types they do not know are let through, as the
docs ask of clients.

Runs only when the profile sets ``contract = "anthropic-messages"`` (the built-in profile beside
this file).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
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
from conformance.models import Outcome, Severity, passed, problem, skipped

CONTRACT = "anthropic-messages"
SPEC_STREAMING = "https://platform.claude.com/docs/en/build-with-claude/streaming"
SPEC_EVENT_TYPES = SPEC_STREAMING + "#event-types"
SPEC_ERRORS = SPEC_STREAMING + "#error-events"
BLOCK_EVENTS = ("content_block_start", "content_block_delta", "content_block_stop")
GRAMMAR_EVENTS = ("message_start", *BLOCK_EVENTS, "message_delta", "message_stop")


def not_judged(ctx: CheckContext) -> Outcome | None:
    """The skip every check of this contract starts with: another contract, or no 200 stream."""
    if ctx.profile.contract != CONTRACT:
        return skipped(f"not an Anthropic Messages stream (profile contract {CONTRACT})")
    return require_stream(ctx)


def grammar_events(
    events: Sequence[TimedEvent],
) -> tuple[list[tuple[TimedEvent, dict[str, Any]]], TimedEvent | None]:
    """The grammar's events in order up to the first ``error`` event (pings and unknown types
    left out), and that error event (None when there is none)."""
    out: list[tuple[TimedEvent, dict[str, Any]]] = []
    for event, obj in typed_events(events):
        if obj["type"] == "error":
            return out, event
        if obj["type"] in GRAMMAR_EVENTS:
            out.append((event, obj))
    return out, None


@check(
    "anthropic.event-name",
    "Every Messages event is named its data's type",
    SPEC_EVENT_TYPES,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: the profile is not an Anthropic Messages stream (contract anthropic-messages), no
    200 stream, or no event. pass: every event (pings and errors included) has an `event:` name
    equal to its JSON data's `"type"`. fail: an event without a name (the Anthropic SDKs skip
    those silently), data that is not a JSON object with a string `type`, or a name that differs
    from the type.""",
)
def event_name(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    return judge_names(ctx.capture)


class _State(Enum):
    START = "before message_start"
    MESSAGE = "in the message, outside a content block"
    BLOCK = "inside a content block"
    DELTAS = "after message_delta"
    STOPPED = "after message_stop"


# (state, event type) -> next state; a pair not listed breaks the grammar.
_NEXT = {
    (_State.START, "message_start"): _State.MESSAGE,
    (_State.MESSAGE, "content_block_start"): _State.BLOCK,
    (_State.MESSAGE, "message_delta"): _State.DELTAS,
    (_State.BLOCK, "content_block_delta"): _State.BLOCK,
    (_State.BLOCK, "content_block_stop"): _State.MESSAGE,
    (_State.DELTAS, "message_delta"): _State.DELTAS,
    (_State.DELTAS, "message_stop"): _State.STOPPED,
}


@check(
    "anthropic.order",
    "message_start, content blocks (start, deltas, stop), message_delta, message_stop",
    SPEC_EVENT_TYPES,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an anthropic-messages profile, or no 200 stream. pass: the event types follow
    `message_start`, then per content block `content_block_start`, `content_block_delta`*,
    `content_block_stop`, then one or more `message_delta`, then `message_stop`, and nothing
    after it; `ping` and unknown types may come anywhere. An `error` event ends the grammar
    early (what it cut off is anthropic.error's to report). fail: the first event out of place
    (e.g. a `content_block_delta` before its `content_block_start`, an event after
    `message_stop`), or a stream that ends without `message_stop`. Indexes are
    anthropic.block-index's.""",
)
def order(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    events, error_event = grammar_events(cap.events)
    state = _State.START
    for event, obj in events:
        following = _NEXT.get((state, obj["type"]))
        if following is None:
            return problem(
                f"event {event.index + 1}: {obj['type']} {state.value}", event_evidence(cap, event)
            )
        state = following
    if error_event is not None:
        return passed(
            f"{plural(len(events), 'event')} in order until the error event "
            f"{error_event.index + 1} (anthropic.error)"
        )
    if state is not _State.STOPPED:
        last = [event_evidence(cap, events[-1][0])] if events else []
        return problem(f"no message_stop: the stream ended {state.value} ({ended(cap)})", *last)
    return passed(f"{plural(len(events), 'event')} in order, ending with message_stop")


@check(
    "anthropic.block-index",
    "Each content block's events carry its index, counting from 0",
    SPEC_EVENT_TYPES,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an anthropic-messages profile, no 200 stream, or no content block. pass: the
    n-th `content_block_start` has `index` n-1 (its place in the final `content` array), and the
    `content_block_delta` and `content_block_stop` events of that block carry the same `index`.
    fail: a start whose index is not the next one, a delta or stop whose index is not its
    block's, or an index that is not an integer (the SDKs then append to the wrong block or
    crash). Block events outside a block are anthropic.order's and not judged here.""",
)
def block_index(ctx: CheckContext) -> Outcome:
    if (early := not_judged(ctx)) is not None:
        return early
    cap = ctx.capture
    events, _ = grammar_events(cap.events)
    started = 0
    current: Any = None  # the open block's declared index; None outside a block
    judged = 0
    bad: list[tuple[TimedEvent, str]] = []
    for event, obj in events:
        kind, index = obj["type"], obj.get("index")
        if kind not in BLOCK_EVENTS:
            continue
        if (kind == "content_block_start") != (current is None):
            continue  # out of place: anthropic.order reports it
        judged += 1
        if not isinstance(index, int) or isinstance(index, bool):
            bad.append((event, f"{kind} has no integer index ({index!r})"))
        if kind == "content_block_start":
            if isinstance(index, int) and index != started:
                bad.append((event, f"content_block_start index {index}, expected {started}"))
            started += 1
            current = index
        else:
            if isinstance(index, int) and index != current:
                bad.append((event, f"{kind} index {index} inside block {current}"))
            if kind == "content_block_stop":
                current = None
    if not judged:
        return skipped("no content block")
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {judged} block events have the wrong index; event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    return passed(f"{plural(started, 'content block')}, {judged} events, indexes consistent")


@check(
    "anthropic.error",
    "No error event in the stream",
    SPEC_ERRORS,
    Severity.MUST,
    reads="every event of the main connection, named or not, and the JSON of its data",
    doc="""skip: not an anthropic-messages profile, or no 200 stream. pass: no `error` event (the
    reason names the last `message_delta`'s `stop_reason`). fail: an `error` event, reported with
    its error type and message (e.g. `overloaded_error`, which the API sends mid-stream with a
    200 status when it is overloaded): the SDKs raise it, and the message is cut off.""",
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
    reasons = [
        delta.get("stop_reason")
        for _, obj in typed
        if obj["type"] == "message_delta" and isinstance(delta := obj.get("delta"), dict)
    ]
    stop = f"stop_reason {reasons[-1]!r}" if reasons else "no message_delta"
    return passed(f"no error event in {plural(len(typed), 'event')}; {stop}")
