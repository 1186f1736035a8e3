"""Streaming checks: timing of the main capture, plus the concurrent and aborting clients.

All timings are seconds since the request started (monotonic clock). Tolerances are generous and
come from the profile, because the suite runs on busy CI machines.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from conformance.capture.event_log import time_runs
from conformance.capture.model import Capture, EndReason, TimedEvent
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    compression,
    event_evidence,
    plural,
    require_stream,
)
from conformance.checks.registry import READS_ALL_EVENTS, check
from conformance.checks.spec_links import SPEC_AUTHORING, SPEC_PROCESSING
from conformance.intermediaries import detect, through
from conformance.models import (
    Evidence,
    Outcome,
    Severity,
    passed,
    problem,
    skipped,
)
from conformance.profiles import Profile

BURST_GAP = 0.05  # events closer than this (or half the interval) belong to one burst


@check(
    "stream.first-event",
    "The first event arrives promptly",
    SPEC_AUTHORING,
    Severity.MUST,
    reads=READS_ALL_EVENTS,
    doc="""pass: the first event arrived within first_event_timeout (--first-event-timeout, default 5 s)
    of the request. fail: later, or never, when the profile expects events (a count, a sentinel,
    an interval or a contract). A profile with no such expectation (`generic` as it is, or an
    endless feed under --hold / endless = true) promises no event at any time: a quiet stream is
    valid, so a late first event passes with the time said, and no event at all skips (the
    silence itself is stream.heartbeat's to judge).""",
)
def first_event(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap, profile = ctx.capture, ctx.profile
    limit = profile.first_event_timeout
    promised = _expects_events(profile)
    if not cap.events:
        if not promised:
            alive = (
                f"; bytes flowed from t={cap.t_first_byte:.2f} s (comments)"
                if cap.t_first_byte is not None
                else ""
            )
            return skipped(
                f"no event within {cap.t_end:.1f} s{alive}: nothing in the profile expects one "
                "(give --expect-count, --sentinel or --interval to require it)"
            )
        return problem(
            f"no event at all within {cap.t_end:.1f} s ({cap.end_reason}: {cap.end_message})"
        )
    first = cap.events[0]
    if first.t > limit:
        if not promised:
            return passed(
                f"first event after {first.t:.2f} s (over {limit:g} s, but nothing in the profile "
                "expects events sooner: a quiet feed is valid)"
            )
        return problem(
            f"the first event arrived after {first.t:.2f} s (limit {limit:g} s)",
            event_evidence(cap, first),
        )
    return passed(f"first event after {first.t * 1000:.0f} ms")


def _expects_events(profile: Profile) -> bool:
    """Whether the profile promises events at a given pace: a count, a sentinel, an interval or
    an application contract, and not an endless feed judged on what arrived."""
    if profile.held or profile.endless:
        return profile.interval is not None
    return any(
        value is not None
        for value in (profile.expect_count, profile.sentinel, profile.interval, profile.contract)
    )


@dataclass(frozen=True, slots=True)
class Burst:
    """One run of events whose consecutive arrivals are at most the burst gap apart."""

    first: int  # position of its first event
    count: int
    reads: int  # distinct arrival times (network reads) among its events
    t_first: float
    t_last: float


@dataclass(frozen=True, slots=True)
class Bursts:
    """What stream.incremental reads of the bursts: how many, and the (first) largest."""

    groups: int
    largest: Burst


def bursts(events: Sequence[TimedEvent], gap: float) -> Bursts | None:
    """The runs of events whose consecutive arrivals are at most ``gap`` apart: their number and
    the first largest (None: no event). Streams over the reads, so a million events cost no
    list. Never raises."""
    groups = 0
    largest: Burst | None = None
    first = count = 0
    t_first = t_last = 0.0
    reads: set[float] = set()
    for t, start, stop in time_runs(events):
        if groups and t - t_last <= gap:
            count += stop - start
        else:
            if groups and (largest is None or count > largest.count):
                largest = Burst(first, count, len(reads), t_first, t_last)
            groups += 1
            first, count, t_first, reads = start, stop - start, t, set()
        reads.add(t)
        t_last = t
    if not groups:
        return None
    if largest is None or count > largest.count:
        largest = Burst(first, count, len(reads), t_first, t_last)
    return Bursts(groups, largest)


@check(
    "stream.incremental",
    "Events arrive as they are produced, not in one burst",
    SPEC_AUTHORING,
    Severity.MUST,
    reads=READS_ALL_EVENTS,
    doc="""pass: events arrive spread out, or all at once right away (a fast server). fail: more
    than half of the events arrive in one burst (gaps under 50 ms, or half the interval), in few
    reads (or far faster than the interval), after a silence of at least burst_stall (0.25 s): the
    response was buffered by the server, a compressor or a proxy (named when the headers show
    one). Under --hold or endless = true, bursts of an irregular source (a ticker sending what
    changed at once) are fine: only every event arriving in one block fails. A silence the suite
    itself caused (its event loop stalled on a busy machine) is discounted. skip: fewer than 3
    events.""",
)
def incremental(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap, profile = ctx.capture, ctx.profile
    events = cap.events
    if len(events) < 3:
        return skipped(f"{plural(len(events), 'event')}: too few to judge")
    gap = max(BURST_GAP, (profile.interval or 0) / 2)
    found = bursts(events, gap)
    assert found is not None  # three events or more
    largest = found.largest
    start = events[largest.first]
    before = events[largest.first - 1].t if largest.first else 0.0
    silence = start.t - before
    # An endless feed (held, or said to be endless) bursts when its source does (a ticker sends
    # what changed at once): only the whole capture arriving in one block is buffering there.
    endless = profile.held or profile.endless
    share = largest.count == len(events) if endless else largest.count * 2 > len(events)
    if share and silence >= profile.burst_stall and _together(largest, profile):
        stalled = ctx.stalled_between(before, start.t)
        if silence - stalled < profile.burst_stall:
            return passed(
                f"{largest.count} events read together at t={start.t:.2f} s, but the suite itself "
                f"was stalled {stalled:.2f} s of the {silence:.2f} s before: not judged as buffering"
            )
        coding = compression(cap)
        compressed = (
            ""
            if coding is None
            else f"; it is compressed (Content-Encoding: {coding}): a compressor holds events "
            "back unless it is flushed after each one"
        )
        return problem(
            f"{largest.count} of {len(events)} events arrived together at t={start.t:.2f} s "
            f"({plural(largest.reads, 'read')}) after {silence:.2f} s of silence: the response "
            f"was buffered (server, compression or proxy){through(detect(cap.headers))}{compressed}",
            event_evidence(cap, start),
            event_evidence(cap, events[largest.first + largest.count - 1]),
        )
    span = events[-1].t - events[0].t
    return passed(
        f"{len(events)} events over {span:.2f} s in {plural(found.groups, 'burst')} "
        f"(largest {largest.count})"
    )


def _together(burst: Burst, profile: Profile) -> bool:
    """Delivered as a block, not merely sent fast: few reads, or far faster than the interval."""
    if burst.reads <= max(2, burst.count // 4):
        return True
    if profile.interval is not None:
        return burst.t_last - burst.t_first < 0.25 * (burst.count - 1) * profile.interval
    return False


@check(
    "stream.cadence",
    "Messages keep the expected interval",
    SPEC_AUTHORING,
    Severity.SHOULD,
    reads=READS_ALL_EVENTS,
    doc="""skip: no interval expected (--interval). pass: every gap between messages (after the
    first) is within cadence_tolerance of the interval (50 %, at least 50 ms); time the suite
    itself was stalled is not counted. warn: gaps out of tolerance, worst first.""",
)
def cadence(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap, profile = ctx.capture, ctx.profile
    interval = profile.interval
    if interval is None:
        return skipped("no interval expected (set --interval)")
    events = cap.events
    if len(events) < 3:
        return skipped(f"{plural(len(events), 'event')}: too few to judge")
    # The first message is usually a greeting sent right before the first sample: not judged.
    # A gap stretched by the suite's own stall (a busy machine) is not the server's: discount it.
    gaps = [
        (b.t - a.t - min(ctx.stalled_between(a.t, b.t), max(0.0, b.t - a.t - interval)), b)
        for a, b in itertools.pairwise(events[1:])
    ]
    tolerance = max(profile.cadence_tolerance * interval, 0.05)
    off = sorted(
        ((g, e) for g, e in gaps if abs(g - interval) > tolerance),
        key=lambda ge: -abs(ge[0] - interval),
    )
    median = statistics.median(g for g, _ in gaps)
    if off:
        return problem(
            f"{len(off)} of {len(gaps)} gaps outside {interval:g} s +- {tolerance:.3g} s "
            f"(median {median:.3f} s, worst {off[0][0]:.3f} s)",
            *(
                Evidence(e.offset, f"gap {g:.3f} s before event {e.index + 1}", e.t)
                for g, e in off[:MAX_EVIDENCE]
            ),
        )
    return passed(f"{len(gaps)} gaps, median {median:.3f} s (expected {interval:g} s)")


@check(
    "stream.closes",
    "The server ends the response after the last message",
    SPEC_PROCESSING,
    Severity.MUST,
    reads="how the main connection ended, and when its last expected event came (the sentinel of the expected type, or the expect_count-th event)",
    doc="""pass: the server closed the response within close_grace (2 s) of the sentinel (or of the
    expected last event). fail: it kept the stream open (the client must close it, and a browser
    that misses the sentinel reconnects). skip: no sentinel or count to know the end by, or the
    last message never came (payload checks report that), or no sentinel or count and the
    stream was still open at the deadline (valid: an endless stream; the reason suggests --hold
    SECONDS). Under
    --hold: skip (an endless stream is not expected to close); with endless = true, the server
    ending the stream fails.""",
)
def closes(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap, profile = ctx.capture, ctx.profile
    if profile.held or profile.endless:
        return _endless_closes(cap, profile)
    if profile.sentinel is None and profile.expect_count is None:
        if cap.end_reason.by_server:
            return passed(f"the server ended the stream after {plural(len(cap.events), 'event')}")
        if cap.end_reason is EndReason.DEADLINE:
            # Not a defect: an endless stream is valid; the run just did not say it was one.
            return skipped(
                f"still streaming at the {profile.limits.deadline:g} s deadline after "
                f"{plural(len(cap.events), 'event')}: an endless stream? {HOLD_HINT}"
            )
        return skipped("no sentinel or count: an open-ended stream is not judged")
    if cap.t_last_event is None:
        hint = f"; an endless stream? {HOLD_HINT}" if cap.end_reason is EndReason.DEADLINE else ""
        return skipped(
            f"the last expected message never arrived ({cap.end_reason}; see payload checks){hint}"
        )
    if cap.end_reason.by_server:
        return passed(
            f"closed {1000 * (cap.t_end - cap.t_last_event):.0f} ms after the last message"
        )
    reason = (
        f"still open {profile.limits.close_grace:g} s after the last message"
        if cap.end_reason is EndReason.NOT_CLOSED_AFTER_SENTINEL
        else f"not closed after the last message ({cap.end_reason}: {cap.end_message})"
    )
    last = next(e for e in cap.events if e.t >= cap.t_last_event)
    return problem(reason, event_evidence(cap, last))


HOLD_HINT = (
    "judge it with --hold SECONDS (read that long, then judge what arrived), "
    "or say endless = true in the profile"
)


def _endless_closes(cap: Capture, profile: Profile) -> Outcome:
    """stream.closes for a held or endless stream: it is not expected to close; when the profile
    says endless, the server closing it is the defect."""
    hold = profile.limits.hold
    held = f"held for {hold:g} s" if hold is not None else "endless"
    if cap.end_reason.by_server:
        early = f"after {cap.t_end:.1f} s and {plural(len(cap.events), 'event')}"
        if profile.endless:
            return problem(
                f"the server ended an endless stream {early} ({cap.end_reason}): browsers "
                "reconnect, and events sent meanwhile are lost",
                Evidence(cap.decoded_bytes, f"end of body ({cap.end_message})", cap.t_end),
            )
        return skipped(f"{held}: the server closed the stream {early} (not judged)")
    if hold is not None:
        return skipped(f"{held}: an endless stream is not expected to close")
    return passed(f"still open after {cap.t_end:.1f} s ({cap.end_reason}), as an endless stream")


@check(
    "stream.clean-end",
    "The response body ends cleanly",
    SPEC_PROCESSING,
    Severity.SHOULD,
    reads="how the main connection's body ended",
    doc="""pass: the body ended as HTTP says it should (last chunk, or close for a close-delimited
    body), or the capture stopped first. warn: a reset or truncated chunked body: browsers report a
    network error and reconnect.""",
)
def clean_end(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    if cap.end_reason is EndReason.PROTOCOL_ERROR:
        return problem(
            f"the body ended abnormally: {cap.end_message} (browsers fire error and reconnect)",
            Evidence(cap.decoded_bytes, f"end of body after {cap.decoded_bytes} bytes", cap.t_end),
        )
    return passed(f"ended: {cap.end_reason}")
