"""Payload checks: did the page receive the messages the profile expects, in the right shape?"""

from __future__ import annotations

import json

from conformance.capture.model import Capture, TimedEvent
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    event_evidence,
    plural,
    require_stream,
)
from conformance.checks.registry import check
from conformance.checks.spec_links import SPEC_EVENTSOURCE, SPEC_INTERPRETING
from conformance.models import Outcome, Severity, passed, problem, skipped


def ended(cap: Capture) -> str:
    """How the capture ended, for a reason text. Never raises."""
    return f"capture ended: {cap.end_reason}" + (f", {cap.end_message}" if cap.end_message else "")


@check(
    "payload.count",
    "The expected number of messages arrives",
    SPEC_INTERPRETING,
    Severity.MUST,
    per_client=True,
    doc="""skip: no expected count (generic profile without --expect-count), or --hold (an endless
    stream is judged on what arrived). pass: exactly that many
    events dispatched. fail: fewer or more (the reason says how the capture ended).""",
)
def count(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    expected = ctx.profile.expect_count
    if expected is None:
        return skipped("no expected count (set expect_count / --expect-count)")
    if (hold := ctx.profile.limits.hold) is not None:
        return skipped(f"held for {hold:g} s: an endless stream has no count to reach")
    if (early := require_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    got = len(cap.events)
    if got == expected:
        return passed(f"{plural(got, 'event')}, as expected")
    if got > expected:
        extra = cap.events[expected:]
        return problem(
            f"{got} events, expected {expected}: {got - expected} extra ({ended(cap)})",
            *(event_evidence(cap, e) for e in extra[:MAX_EVIDENCE]),
        )
    evidence = [event_evidence(cap, cap.events[-1])] if cap.events else []
    return problem(f"{got} of {expected} events ({ended(cap)})", *evidence)


@check(
    "payload.sentinel",
    "The last message, and only the last, is the sentinel",
    SPEC_INTERPRETING,
    Severity.MUST,
    per_client=True,
    doc="""skip: no sentinel set. pass: the last event's data is the sentinel (compared after JSON
    decoding under the json format) and no earlier event is. fail: missing, not last, or repeated.""",
)
def sentinel(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    profile = ctx.profile
    if profile.sentinel is None:
        return skipped("no sentinel (set sentinel / --sentinel)")
    if (early := require_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    if not cap.events:
        return problem(f"no event at all ({ended(cap)})")
    hits = [e for e in cap.events if profile.is_sentinel(e.data)]
    last = cap.events[-1]
    if not hits:
        return problem(
            f"the sentinel {profile.sentinel!r} never arrived; last of {len(cap.events)} events shown ({ended(cap)})",
            event_evidence(cap, last),
        )
    if len(hits) > 1:
        return problem(
            f"the sentinel arrived {len(hits)} times (events {', '.join(str(h.index + 1) for h in hits[:5])})",
            *(event_evidence(cap, h) for h in hits[:MAX_EVIDENCE]),
        )
    hit = hits[0]
    if hit is not last:
        after = cap.events[hit.index + 1 :]
        return problem(
            f"the sentinel is event {hit.index + 1} of {len(cap.events)}: {plural(len(after), 'event')} after it",
            event_evidence(cap, hit),
            *(event_evidence(cap, e) for e in after[: MAX_EVIDENCE - 1]),
        )
    return passed(f"event {last.index + 1} (the last) is the sentinel")


@check(
    "payload.json",
    "Every message is valid JSON",
    SPEC_EVENTSOURCE,
    Severity.MUST,
    per_client=True,
    doc="""skip: data format is not json. pass: every data (the sentinel aside) parses as JSON.
    fail: a data that does not (the page's JSON.parse throws).""",
)
def json_data(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    profile = ctx.profile
    if profile.data_format != "json":
        return skipped(f"data format is {profile.data_format}")
    if (early := require_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    bad: list[tuple[TimedEvent, str]] = []
    judged = 0
    for event in cap.events:
        if profile.sentinel is not None and event.data == profile.sentinel:
            continue  # a non-JSON sentinel such as [DONE] is the profile's business
        judged += 1
        try:
            json.loads(event.data)
        except ValueError as exc:
            bad.append((event, str(exc)))
    if not judged:
        return skipped("no message to judge")
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {judged} messages are not JSON; event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    return passed(f"{plural(judged, 'message')}, all JSON")


@check(
    "payload.event-type",
    "Messages dispatch as the expected event type",
    SPEC_INTERPRETING,
    Severity.MUST,
    per_client=True,
    doc="""skip: any type allowed, or no events. pass: every event's type is the expected one
    (`message` by default, so `onmessage` fires). fail: other types (an `event:` field): only
    addEventListener(type) sees them.""",
)
def event_type(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    expected = ctx.profile.event_type
    if expected is None:
        return skipped("any event type allowed")
    cap = ctx.capture
    if not cap.events:
        return skipped("no events")
    wrong = [e for e in cap.events if e.type != expected]
    if not wrong:
        return passed(f"all {plural(len(cap.events), 'event')} are {expected!r}")
    types = sorted({e.type for e in wrong})
    hint = " (onmessage never fires for them)" if expected == "message" else ""
    return problem(
        f"{len(wrong)} of {len(cap.events)} events have type {', '.join(map(repr, types))}, not {expected!r}{hint}",
        *(event_evidence(cap, e) for e in wrong[:MAX_EVIDENCE]),
    )
