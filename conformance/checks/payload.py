"""Payload checks: did the page receive the messages the profile expects, in the right shape?"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime

from conformance.capture import Capture, TimedEvent
from conformance.checks import SPEC_EVENTSOURCE, SPEC_INTERPRETING, check
from conformance.checks.context import MAX_EVIDENCE, CheckContext, event_evidence, plural
from conformance.models import Outcome, Severity, passed, problem, skipped
from conformance.profiles import Profile

RAM_FIRST = "Starting system RAM monitoring..."
RAM_SAMPLE = re.compile(
    r"(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) - RAM usage: "
    r"(?P<p>\d+(?:\.\d+)?)% \((?P<u>\d+(?:\.\d+)?)GB / (?P<t>\d+(?:\.\d+)?)GB\)"
)


def _ended(cap: Capture) -> str:
    return f"capture ended: {cap.end_reason}" + (f", {cap.end_message}" if cap.end_message else "")


def _no_stream(ctx: CheckContext) -> Outcome | None:
    if ctx.capture.status != 200:
        return skipped("no 200 stream to judge (http.status)")
    return None


@check(
    "payload.count",
    "The expected number of messages arrives",
    SPEC_INTERPRETING,
    Severity.MUST,
    doc="""skip: no expected count (generic profile without --expect-count). pass: exactly that many
    events dispatched. fail: fewer or more (the reason says how the capture ended).""",
)
def count(ctx: CheckContext) -> Outcome:
    expected = ctx.profile.expect_count
    if expected is None:
        return skipped("no expected count (set expect_count / --expect-count)")
    if (early := _no_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    got = len(cap.events)
    if got == expected:
        return passed(f"{plural(got, 'event')}, as expected")
    if got > expected:
        extra = cap.events[expected:]
        return problem(
            f"{got} events, expected {expected}: {got - expected} extra ({_ended(cap)})",
            *(event_evidence(cap, e) for e in extra[:MAX_EVIDENCE]),
        )
    evidence = [event_evidence(cap, cap.events[-1])] if cap.events else []
    return problem(f"{got} of {expected} events ({_ended(cap)})", *evidence)


@check(
    "payload.sentinel",
    "The last message, and only the last, is the sentinel",
    SPEC_INTERPRETING,
    Severity.MUST,
    doc="""skip: no sentinel set. pass: the last event's data is the sentinel (compared after JSON
    decoding under the json format) and no earlier event is. fail: missing, not last, or repeated.""",
)
def sentinel(ctx: CheckContext) -> Outcome:
    profile = ctx.profile
    if profile.sentinel is None:
        return skipped("no sentinel (set sentinel / --sentinel)")
    if (early := _no_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    if not cap.events:
        return problem(f"no event at all ({_ended(cap)})")
    hits = [e for e in cap.events if profile.is_sentinel(e.data)]
    last = cap.events[-1]
    if not hits:
        return problem(
            f"the sentinel {profile.sentinel!r} never arrived; last of {len(cap.events)} events shown ({_ended(cap)})",
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
    doc="""skip: data format is not json. pass: every data (the sentinel aside) parses as JSON.
    fail: a data that does not (the page's JSON.parse throws).""",
)
def json_data(ctx: CheckContext) -> Outcome:
    profile = ctx.profile
    if profile.data_format != "json":
        return skipped(f"data format is {profile.data_format}")
    if (early := _no_stream(ctx)) is not None:
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
    doc="""skip: any type allowed, or no events. pass: every event's type is the expected one
    (`message` by default, so `onmessage` fires). fail: other types (an `event:` field): only
    addEventListener(type) sees them.""",
)
def event_type(ctx: CheckContext) -> Outcome:
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


@dataclass(frozen=True)
class RamSample:
    at: datetime
    percent: float
    used_gb: float
    total_gb: float


def parse_ram_sample(text: str) -> RamSample | str:
    """A sample, or a one-line reason it is not one."""
    match = RAM_SAMPLE.fullmatch(text)
    if match is None:
        return "not 'YYYY-MM-DD HH:MM:SS - RAM usage: P% (U.UUGB / T.TTGB)'"
    try:
        at = datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return f"bad timestamp {match['ts']!r}"
    p, u, t = float(match["p"]), float(match["u"]), float(match["t"])
    if not 0 <= p <= 100:
        return f"percent {p} outside 0..100"
    if u > t:
        return f"used {u}GB > total {t}GB"
    # U and T are printed to 0.01 and P to 0.1: allow each rounding once.
    tolerance = 0.005 + 0.005 + t * 0.0005 + 1e-9
    if not math.isclose(u, t * p / 100, abs_tol=tolerance):
        return f"used {u}GB != {t}GB x {p}% = {t * p / 100:.3f}GB"
    return RamSample(at, p, u, t)


@check(
    "payload.ram-format",
    "RAM monitor messages: greeting, well-formed samples, sentinel",
    SPEC_EVENTSOURCE,
    Severity.MUST,
    doc="""skip: the profile does not use the RAM monitor format. pass: the first message is
    "Starting system RAM monitoring...", then expect_count-2 samples
    'YYYY-MM-DD HH:MM:SS - RAM usage: P% (U.UUGB / T.TTGB)' with 0<=P<=100, U<=T, U=T*P/100 within
    rounding, timestamps non-decreasing. fail: the first bad message, with its reason.""",
)
def ram_format(ctx: CheckContext) -> Outcome:
    profile = ctx.profile
    if not profile.ram_format:
        return skipped("profile does not use the RAM monitor format")
    if (early := _no_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    return judge_ram(cap, profile)


def judge_ram(cap: Capture, profile: Profile) -> Outcome:
    """The RAM monitor contract on one capture (also used for the extra clients' streams)."""
    events = cap.events
    if not events:
        return problem(f"no messages ({_ended(cap)})")
    first = profile.decoded(events[0].data)
    if first != RAM_FIRST:
        return problem(f"the first message is not {RAM_FIRST!r}", event_evidence(cap, events[0]))
    body = events[1:]
    if body and profile.is_sentinel(body[-1].data):
        body = body[:-1]
    bad: list[tuple[TimedEvent, str]] = []
    previous: RamSample | None = None
    for event in body:
        decoded = profile.decoded(event.data)
        sample = parse_ram_sample(decoded) if isinstance(decoded, str) else "not a string message"
        if isinstance(sample, str):
            bad.append((event, sample))
            continue
        if previous is not None and sample.at < previous.at:
            bad.append((event, f"timestamp {sample.at} earlier than the previous {previous.at}"))
        previous = sample
    if bad:
        first_bad, why = bad[0]
        return problem(
            f"{len(bad)} bad sample(s); event {first_bad.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    if profile.expect_count is not None and len(body) != profile.expect_count - 2:
        return problem(f"{len(body)} samples, expected {profile.expect_count - 2} ({_ended(cap)})")
    return passed(f"greeting and {plural(len(body), 'well-formed sample')}")
