"""What the LLM streams share: named events whose JSON data repeats the name as ``"type"``.

OpenAI's Responses API and Anthropic's Messages API both send ``event: NAME`` and a JSON object
with ``"type": NAME``. Clients rely on either half: the Anthropic SDK drops an event that has no
``event:`` name, the OpenAI SDK dispatches on the data's ``type``, a browser's
``addEventListener(NAME)`` sees only the name. One place judges that the two agree, for both
contracts (:mod:`conformance.contracts.openai_responses`, :mod:`conformance.contracts.anthropic_messages`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from conformance.capture.model import Capture, TimedEvent
from conformance.checks.context import MAX_EVIDENCE, event_evidence, plural
from conformance.models import Outcome, passed, problem, skipped


def typed(data: str) -> dict[str, Any] | None:
    """The event's data as a JSON object with a string ``type``, or None when it is not one."""
    try:
        obj: Any = json.loads(data)
    except ValueError:
        return None
    if isinstance(obj, dict) and isinstance(obj.get("type"), str):
        return obj
    return None


def typed_events(
    events: Sequence[TimedEvent], ignore: Callable[[TimedEvent], bool] = lambda _: False
) -> list[tuple[TimedEvent, dict[str, Any]]]:
    """The events whose data is a typed JSON object, with that object, in stream order."""
    out = []
    for event in events:
        if ignore(event):
            continue
        obj = typed(event.data)
        if obj is not None:
            out.append((event, obj))
    return out


def name_problem(event: TimedEvent) -> str | None:
    """Why the event's ``event:`` name and its data's ``type`` disagree, or None when they agree."""
    obj = typed(event.data)
    if obj is None:
        return "data is not a JSON object with a string 'type'"
    if event.type == obj["type"]:
        return None
    if event.type == "message":
        return f"no 'event:' name (type 'message'), data type {obj['type']!r}"
    return f"event: {event.type!r} but data type {obj['type']!r}"


def judge_names(cap: Capture, ignore: Callable[[TimedEvent], bool] = lambda _: False) -> Outcome:
    """The ``event-name`` verdict of a contract: every event (but the ignored) is named its type."""
    judged = [e for e in cap.events if not ignore(e)]
    if not judged:
        return skipped(f"no event to judge ({plural(len(cap.events), 'event')} in all)")
    bad = [(e, why) for e in judged if (why := name_problem(e)) is not None]
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {len(judged)} events are not named their data's type; "
            f"event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    names = sorted({e.type for e in judged})
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return passed(f"{plural(len(judged), 'event')}, each named its data's type ({shown})")


def error_text(obj: dict[str, Any]) -> str:
    """``type: message`` of an error payload, flat (``{"code", "message"}``) or nested under
    ``"error"`` (``{"error": {"type", "message"}}``), whichever the server sent."""
    inner = obj.get("error")
    source = inner if isinstance(inner, dict) else obj
    kind = source.get("type") if isinstance(inner, dict) else None
    kind = kind or source.get("code") or "error"
    message = source.get("message")
    return f"{kind}: {message!r}" if message is not None else str(kind)
