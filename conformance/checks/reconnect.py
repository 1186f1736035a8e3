"""Reconnection checks: what a browser's EventSource does after its connection ends.

EventSource reconnects by itself (WHATWG HTML, "Processing model": reestablish the connection),
after the stream's ``retry`` time, with ``Last-Event-ID`` set to the last event id it saw. These
checks judge the captures of :mod:`conformance.capture.reconnect`: a client that cut the stream
and reconnected, and one reconnect after the stream's end. Ids are compared by position, never by
arithmetic: opaque string ids are as valid as integers.
"""

from __future__ import annotations

from conformance.capture.model import Capture, TimedEvent
from conformance.checks.clients import COMPLETE
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    event_evidence,
    plural,
    require_stream,
)
from conformance.checks.mime import extract_mime_type
from conformance.checks.registry import check
from conformance.checks.spec_links import (
    SPEC_INTERPRETING,
    SPEC_LAST_EVENT_ID,
    SPEC_REESTABLISH,
)
from conformance.evidence import escape_excerpt
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped

RETRY_STORM_MS = 250  # a retry below this makes every client reconnect almost at once


def _ids(cap: Capture) -> list[str]:
    return [e.last_event_id for e in cap.events]


def _header(value: str | None) -> str:
    return f"Last-Event-ID: {value}" if value is not None else "no Last-Event-ID"


def _event_evidence(cap: Capture, event: TimedEvent, label: str) -> Evidence:
    """An event of another connection than the main one: its offset is into that body."""
    excerpt = escape_excerpt(cap.excerpt_at(event.offset, 49), 48)
    return Evidence(None, excerpt, event.t, f"{label} @{event.offset}")


def _request_evidence(cap: Capture, label: str) -> Evidence:
    status = "no response" if cap.status is None else f"status {cap.status}"
    text = f"{_header(cap.request.last_event_id)} -> {status}, {plural(len(cap.events), 'event')}"
    return Evidence(None, f"{text} (ended: {cap.end_reason})", cap.t_end, label)


def _is_stream(cap: Capture) -> bool:
    mime = extract_mime_type(cap.header_all("content-type"))  # the last one, as Chromium
    return cap.status == 200 and mime is not None and mime.essence == "text/event-stream"


NOT_EVENTSOURCE = "not a GET: EventSource only sends GET, and fetch clients do not reconnect"


def _early(ctx: CheckContext) -> Outcome | None:
    if (early := require_stream(ctx)) is not None:
        return early
    if ctx.profile.method.upper() != "GET":
        return skipped(NOT_EVENTSOURCE)
    if ctx.reconnect is None:
        return skipped("not run (skipped)")
    return None


@check(
    "reconnect.ids",
    "Events carry ids, so a reconnecting browser can resume",
    SPEC_LAST_EVENT_ID,
    Severity.SHOULD,
    reads="every event of the main connection (its id)",
    doc="""pass: every event carries an id (each its own). warn: no event has an id (a browser
    that reconnects sends no Last-Event-ID and starts again from the beginning), some events have
    none, or one id stands for several events (a reconnect after the later ones resumes after the
    first). skip: resumable = false, no 200 stream, or no event.""",
)
def ids(ctx: CheckContext) -> Outcome:
    if (early := require_stream(ctx)) is not None:
        return early
    if ctx.profile.method.upper() != "GET":
        return skipped(NOT_EVENTSOURCE)
    cap = ctx.capture
    if ctx.profile.resumable == "false":
        return skipped("resumable = false: the endpoint does not offer resumption")
    if not cap.events:
        return skipped("no event to judge")
    # one pass over the events, nothing kept per event (a million of them: no list)
    count = missing_count = repeated_count = 0
    missing: list[TimedEvent] = []
    repeated: list[TimedEvent] = []
    first = last = ""
    for event in cap.events:
        current = event.last_event_id
        if not current:
            missing_count += 1
            if len(missing) < MAX_EVIDENCE:
                missing.append(event)
        elif count and current == last:
            repeated_count += 1
            if len(repeated) < MAX_EVIDENCE:
                repeated.append(event)
        first = current if count == 0 else first
        last = current
        count += 1
    if missing_count == count:
        return problem(
            f"none of the {plural(count, 'event')} carries an id: a browser that reconnects "
            "starts again from the beginning",
            event_evidence(cap, cap.events[0]),
        )
    if missing_count:
        return problem(
            f"{missing_count} of {count} events have no id: a browser that reconnects after "
            "one of them cannot resume there",
            *(event_evidence(cap, e) for e in missing),
        )
    if repeated_count:
        return problem(
            f"{repeated_count} events repeat the previous event's id (an event without an id "
            "field keeps the last one): a reconnect after them resumes too early, so the page "
            "sees duplicates",
            *(event_evidence(cap, e) for e in repeated),
        )
    return passed(f"every event carries its own id (first {first!r}, last {last!r})")


def _lost_or_extra(
    ctx: CheckContext, cut: Capture, resumed: Capture, after: list[str]
) -> Outcome | None:
    """The count and the position of the continuation against one full run (the main capture)."""
    main, before = ctx.capture, _ids(cut)
    full = _ids(main)
    aligned = full[: len(before)] == before  # the same run's ids: compare by position
    first = resumed.events[0] if resumed.events else None
    if aligned and first is not None and len(full) > len(before):
        expected = full[len(before)]
        if first.last_event_id != expected and first.last_event_id in full[len(before) :]:
            lost = full.index(first.last_event_id, len(before)) - len(before)
            return problem(
                f"the continuation skipped {plural(lost, 'event')}: after the cut at id "
                f"{before[-1]!r} the next event is id {expected!r}, the reconnect started at id "
                f"{first.last_event_id!r}",
                _request_evidence(resumed, "reconnect"),
                _event_evidence(resumed, first, "reconnect"),
            )
    if main.end_reason in COMPLETE and resumed.end_reason in COMPLETE:
        total = len(before) + len(after)
        if total != len(full):
            what = "lost" if total < len(full) else "more than one run"
            evidence = [_request_evidence(resumed, "reconnect")]
            if first is not None:
                evidence.append(_event_evidence(resumed, first, "reconnect"))
            return problem(
                f"{len(before)} events before the cut + {len(after)} after it = {total}, one full "
                f"run has {len(full)}: {plural(abs(len(full) - total), 'event')} {what}",
                *evidence,
            )
    return None


@check(
    "reconnect.resume",
    "A reconnect with Last-Event-ID continues the stream: nothing repeated, nothing lost",
    SPEC_LAST_EVENT_ID,
    Severity.MUST,
    needs=("reconnect",),
    reads="the main connection's events and ids, and the reconnecting client's: the connection it cut and the one it resumed with Last-Event-ID",
    doc="""A client cuts the connection after --cut-after events (a third of the expected count,
    at least 1), waits the stream's retry (at most --reconnect-delay-max, 1 s) and reconnects with
    `Last-Event-ID: <last id>`. pass: the continuation repeats no event already received and
    skips none (for a finite stream: the events before the cut plus the continuation are one full
    run, by id and count; ids are compared by position, so opaque strings are fine). fail: it
    repeats events (Last-Event-ID ignored, or resumed at the last id itself), skips some, answers
    204 mid-run, or, with resumable = true, the stream has no id to resume from. skip: no ids
    (reconnect.ids warns), resumable = false, the stream ended before the cut, or the reconnect
    was not a stream (reconnect.status).""",
)
def resume(ctx: CheckContext) -> Outcome:
    if (early := _early(ctx)) is not None:
        return early
    assert ctx.reconnect is not None
    run = ctx.reconnect
    if ctx.profile.resumable == "false":
        return skipped("resumable = false: the endpoint does not offer resumption")
    cut, resumed = run.cut, run.resumed
    if cut is None or cut.status != 200:
        return skipped("the cutting client got no stream")
    if resumed is None:
        return skipped(
            f"the stream ended before {plural(run.cut_after, 'event')} ({cut.end_reason}): "
            "nothing to cut (--cut-after)"
        )
    last_id = resumed.request.last_event_id
    before = _ids(cut)
    if not before or not before[-1]:
        if ctx.profile.resumable == "true":
            return problem(
                f"resumable = true, but no id before the cut after {plural(len(before), 'event')}: "
                "a reconnecting browser sends no Last-Event-ID and gets a new run"
            )
        return skipped("no event id before the cut: nothing to resume from (reconnect.ids)")
    if resumed.status == 204:
        lost = len(ctx.capture.events) - len(before)
        if ctx.capture.end_reason in COMPLETE and lost > 0:
            return problem(
                f"the reconnect with {_header(last_id)} got 204 in the middle of the run: the "
                f"browser stops, {plural(lost, 'event')} never reach the page",
                _request_evidence(resumed, "reconnect"),
            )
        return passed(f"the reconnect with {_header(last_id)} got 204: nothing more to send")
    if not _is_stream(resumed):
        return skipped(f"the reconnect got no stream ({resumed.status}): reconnect.status")
    after = _ids(resumed)
    already = set(before)
    repeats = [e for e in resumed.events if e.last_event_id and e.last_event_id in already]
    if repeats:
        first = repeats[0]
        return problem(
            f"the continuation repeats {plural(len(repeats), 'event')} already received (first: "
            f"id {first.last_event_id!r}, event {first.index + 1} of the reconnect): "
            f"{_header(last_id)} was not honoured, the page shows duplicates",
            _request_evidence(resumed, "reconnect"),
            *(_event_evidence(resumed, e, "reconnect") for e in repeats[: MAX_EVIDENCE - 1]),
        )
    if (wrong := _lost_or_extra(ctx, cut, resumed, after)) is not None:
        return wrong
    start = f"started at id {after[0]!r}" if after else "sent nothing more"
    return passed(
        f"cut after {plural(len(before), 'event')} (last id {last_id!r}), reconnected after "
        f"{run.delay:.2f} s (a browser waits {run.browser_delay:g} s) with {_header(last_id)}: "
        f"the continuation {start}, {len(before)} + {len(after)} events, nothing repeated or lost"
    )


@check(
    "reconnect.after-end",
    "A reconnect after the stream ended does not restart the run",
    SPEC_REESTABLISH,
    Severity.SHOULD,
    needs=("reconnect",),
    reads="the main connection's last id and the one reconnect sent after its end",
    doc="""After the main stream ended by itself, one reconnect with its last event's id (as a
    browser whose page missed the end, or did not close the EventSource, does after the retry
    time). pass: 204 No Content (which stops EventSource), or a 200 that replays nothing within
    close_grace. warn: a 200 that replays from the beginning (the restart loop: the page reruns
    the whole stream every few seconds forever), or that sends more events. skip: the stream did
    not end by itself, or the reconnect got another status (reconnect.status).""",
)
def after_end(ctx: CheckContext) -> Outcome:
    if (early := _early(ctx)) is not None:
        return early
    assert ctx.reconnect is not None
    main, after = ctx.capture, ctx.reconnect.after_end
    if after is None:
        return skipped(f"the stream did not end by itself ({main.end_reason})")
    sent = _header(after.request.last_event_id)
    if after.status == 204:
        return passed(f"the reconnect with {sent} got 204 No Content: EventSource stops there")
    if not _is_stream(after):
        return skipped(f"the reconnect got no stream ({after.status}): reconnect.status")
    if not after.events:
        return passed(f"the reconnect with {sent} got a 200 that replays nothing")
    first, origin = after.events[0], main.events[0] if main.events else None
    evidence = (
        _request_evidence(after, "after the end"),
        _event_evidence(after, first, "after the end"),
    )
    restart = origin is not None and (
        (first.last_event_id == origin.last_event_id and first.data == origin.data)
        or (bool(origin.last_event_id) and first.last_event_id == origin.last_event_id)
    )
    if restart:
        return problem(
            f"the reconnect with {sent} after the end restarted the run from its first event: "
            "the restart loop (a page that misses the end reruns the whole stream every few "
            "seconds, forever); the page must close the EventSource itself, or the server should "
            "answer 204 No Content",
            *evidence,
        )
    first_id = f"id {first.last_event_id!r}" if first.last_event_id else "no id"
    return problem(
        f"the reconnect with {sent} after the end got more events (first: {first_id}): the page "
        "sees events after the end; the server should answer 204 No Content",
        *evidence,
    )


@check(
    "reconnect.status",
    "A reconnect is answered with a stream or 204",
    SPEC_REESTABLISH,
    Severity.MUST,
    needs=("reconnect",),
    reads="the status and Content-Type of every reconnect (after the cut, after the end)",
    doc="""pass: every reconnect (after the cut, after the end) got 200 `text/event-stream` or
    204. fail: another status or media type, or no answer at all: browsers fail the connection
    and never reconnect again (or wait forever). skip: no reconnect happened.""",
)
def status(ctx: CheckContext) -> Outcome:
    if (early := _early(ctx)) is not None:
        return early
    assert ctx.reconnect is not None
    run = ctx.reconnect
    tried = [
        (label, c)
        for label, c in (("after the cut", run.resumed), ("after the end", run.after_end))
        if c
    ]
    if not tried:
        return skipped("no reconnect happened (the stream neither was cut nor ended by itself)")
    bad: list[str] = []
    evidence: list[Evidence] = []
    for label, cap in tried:
        if cap.status == 204 or _is_stream(cap):
            continue
        if cap.status is None:
            what = f"no answer ({cap.end_reason}: {cap.end_message})"
        else:
            what = f"{cap.status} ({cap.header('content-type') or 'no content-type'})"
        bad.append(f"{label}, {_header(cap.request.last_event_id)}: {what}")
        evidence.append(_request_evidence(cap, label))
        if cap.status is not None:
            body = escape_excerpt(cap.excerpt_at(0, 81), 80)
            evidence.append(Evidence(None, f"body: {body}", None, label))
    if bad:
        return problem(
            f"a reconnect got {bad[0]}: browsers fail the connection and stop reconnecting for good"
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
            *evidence[:MAX_EVIDENCE],
        )
    answers = ", ".join(f"{label}: {c.status}" for label, c in tried)
    return passed(f"every reconnect got a stream or 204 ({answers})")


@check(
    "reconnect.retry",
    "The reconnection time (retry) is not so short that clients storm the server",
    SPEC_INTERPRETING,
    Severity.SHOULD,
    reads="the main connection's retry fields",
    doc=f"""pass: no `retry` field (Chromium waits 3 s), or every value at least
    {RETRY_STORM_MS} ms. warn: a `retry` below {RETRY_STORM_MS} ms (or 0): every client reconnects
    almost at once after any drop, a reconnect storm; Chromium uses the value as is, Firefox
    clamps it to 500 ms. skip: no 200 stream.""",
)
def retry(ctx: CheckContext) -> Outcome:
    if (early := require_stream(ctx)) is not None:
        return early
    caps: list[tuple[str, Capture]] = [("main", ctx.capture)]
    if ctx.reconnect is not None:
        caps += [("reconnect", c) for c in ctx.reconnect.captures()]
    values = [(label, c.retry) for label, c in caps if c.retry is not None]
    if not values:
        return passed("no retry field: browsers wait their default (Chromium 3 s)")
    label, lowest = min(values, key=lambda v: v[1] or 0)
    assert lowest is not None
    if lowest < RETRY_STORM_MS:
        body = ctx.capture.body
        at = -1
        for line in (b"retry: %d" % lowest, b"retry:%d" % lowest):
            at = body.find(line) if at < 0 and label == "main" else at
        where = (
            Evidence(at, escape_excerpt(body[at : at + 24], 24))
            if at >= 0
            else Evidence(None, f"retry: {lowest}", None, label)
        )
        return problem(
            f"retry: {lowest} ms: after any drop every client reconnects almost at once (a "
            f"reconnect storm); Chromium uses it as is, Firefox clamps it to 500 ms; use at "
            f"least {RETRY_STORM_MS} ms, typically seconds",
            where,
        )
    return passed(f"retry {lowest} ms (browsers wait that long before reconnecting)")
