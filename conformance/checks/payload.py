"""Payload checks: did the page receive the messages the profile expects, in the right shape?"""

from __future__ import annotations

import json

from conformance.capture.model import Capture, TimedEvent
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    event_evidence,
    expected_events,
    plural,
    require_expected,
)
from conformance.checks.registry import READS_EXPECTED, check
from conformance.checks.spec_links import SPEC_EVENTSOURCE, SPEC_INTERPRETING
from conformance.models import Outcome, Severity, passed, problem, skipped, warning


def ended(cap: Capture) -> str:
    """How the capture ended, for a reason text. Never raises."""
    return f"capture ended: {cap.end_reason}" + (f", {cap.end_message}" if cap.end_message else "")


@check(
    "payload.count",
    "The expected number of messages arrives",
    SPEC_INTERPRETING,
    Severity.MUST,
    per_client=True,
    reads=READS_EXPECTED,
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
    if (early := require_expected(ctx)) is not None:
        return early
    cap = ctx.capture
    events = expected_events(ctx)
    # Name the type only when events of other types came too (they are not counted).
    what = "event" if len(events) == len(cap.events) else f"{ctx.profile.event_type!r} event"
    got = len(events)
    if got == expected:
        return passed(f"{plural(got, what)}, as expected")
    if got > expected:
        extra = events[expected:]
        return problem(
            f"{got} {what}s, expected {expected}: {got - expected} extra ({ended(cap)})",
            *(event_evidence(cap, e) for e in extra[:MAX_EVIDENCE]),
        )
    evidence = [event_evidence(cap, events[-1])] if events else []
    return problem(f"{got} of {expected} {what}s ({ended(cap)})", *evidence)


@check(
    "payload.sentinel",
    "The last message, and only the last, is the sentinel",
    SPEC_INTERPRETING,
    Severity.MUST,
    per_client=True,
    reads=READS_EXPECTED,
    doc="""skip: no sentinel set. pass: the last event's data is the sentinel (compared after JSON
    decoding under the json format) and no earlier event is. fail: missing, not last, or repeated.""",
)
def sentinel(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    profile = ctx.profile
    if profile.sentinel is None:
        return skipped("no sentinel (set sentinel / --sentinel)")
    if (early := require_expected(ctx)) is not None:
        return early
    cap = ctx.capture
    events = expected_events(ctx)
    if not events:
        return problem(f"no event at all ({ended(cap)})")
    hits = [e for e in events if profile.is_sentinel(e.data)]
    last = events[-1]
    if not hits:
        return problem(
            f"the sentinel {profile.sentinel!r} never arrived; last of {len(events)} events shown ({ended(cap)})",
            event_evidence(cap, last),
        )
    if len(hits) > 1:
        return problem(
            f"the sentinel arrived {len(hits)} times (events {', '.join(str(h.index + 1) for h in hits[:5])})",
            *(event_evidence(cap, h) for h in hits[:MAX_EVIDENCE]),
        )
    hit = hits[0]
    if hit.index != last.index:  # events are built when read: compare places, not objects
        after = events[events.index(hit) + 1 :]
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
    reads=READS_EXPECTED,
    doc="""skip: data format is not json. pass: every data (the sentinel aside) parses as JSON; an
    empty data field (`data:` alone, as django-eventstream's `stream-open`) is not judged unless
    json_empty_data = "fail". fail: a data that does not (the page's JSON.parse throws).""",
)
def json_data(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    profile = ctx.profile
    if profile.data_format != "json":
        return skipped(f"data format is {profile.data_format}")
    if (early := require_expected(ctx)) is not None:
        return early
    cap = ctx.capture
    bad: list[tuple[TimedEvent, str]] = []
    judged = empty = 0
    for event in expected_events(ctx):
        if profile.sentinel is not None and event.data == profile.sentinel:
            continue  # a non-JSON sentinel such as [DONE] is the profile's business
        if not event.data and profile.json_empty_data == "allow":
            empty += 1
            continue
        judged += 1
        try:
            json.loads(event.data)
        except ValueError as exc:
            bad.append((event, "empty data" if not event.data else str(exc)))
    aside = f" ({plural(empty, 'empty data field')} not judged: json_empty_data = allow)"
    aside = aside if empty else ""
    if not judged:
        return skipped(f"no message to judge{aside}")
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {judged} messages are not JSON; event {first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    return passed(f"{plural(judged, 'message')}, all JSON{aside}")


@check(
    "payload.event-type",
    "Messages dispatch as the expected event type",
    SPEC_INTERPRETING,
    Severity.MUST,
    per_client=True,
    reads="every event of the main connection, and each extra client's (their types)",
    doc="""skip: no event type expected (the generic profile without --event-type, or `*`: a named
    event is valid SSE, a page listens with addEventListener); the reason then says when no event
    is a `message` ("onmessage will not fire; listen for: update"). Or no events. pass: every
    event's type is the expected one (`message` in the contract profiles, so `onmessage`
    fires). fail: no event has it (an `event:` field on every one): only addEventListener(type)
    sees them. warn: some events have another type (an extra named event beside the expected
    ones: this listener never sees it; payload.count says whether every expected one came).""",
)
def event_type(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    expected = ctx.profile.event_type
    cap = ctx.capture
    if expected is None:
        named = sorted(cap.events.types())  # from the log's codes: no event built
        if named and "message" not in named:
            listen = ", ".join(named[:MAX_EVIDENCE])
            return skipped(
                f"no event type expected (--event-type): onmessage will not fire; listen for: {listen}"
            )
        return skipped("no event type expected (set event_type / --event-type)")
    if not cap.events:
        return skipped("no events")
    wrong = [e for e in cap.events if e.type != expected]
    if not wrong:
        return passed(f"all {plural(len(cap.events), 'event')} are {expected!r}")
    types = sorted({e.type for e in wrong})
    hint = " (onmessage never fires for them)" if expected == "message" else ""
    reason = f"{len(wrong)} of {len(cap.events)} events have type {', '.join(map(repr, types))}, not {expected!r}{hint}"
    evidence = [event_evidence(cap, e) for e in wrong[:MAX_EVIDENCE]]
    if len(wrong) < len(cap.events):
        # The expected messages came too (payload.count judges whether all did): an extra named
        # event such as django-eventstream's `stream-open` is only unseen by this listener.
        return warning(f"{reason}: only addEventListener sees them", *evidence)
    return problem(reason, *evidence)
