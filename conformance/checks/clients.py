"""The checks of the extra clients: stream.concurrent and stream.disconnect.

Both judge other connections against the main capture: a defect every client sees is the payload
checks' to report (each extra client is held to the per-client checks of the catalogue), these
report what differs between clients (a generator shared by all, a server that serves one client at
a time, one that wedges after a client hangs up).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping

from conformance.capture.event_log import time_runs
from conformance.capture.model import Capture, EndReason
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    plural,
    require_stream,
)
from conformance.checks.registry import check, per_client
from conformance.checks.spec_links import SPEC_PROCESSING
from conformance.models import (
    Evidence,
    Outcome,
    Severity,
    Verdict,
    passed,
    problem,
    skipped,
)
from conformance.profiles import Profile

BURST_GAP = 0.05  # events closer than this (or half the interval) belong to one burst

COMPLETE = (EndReason.CLOSED, EndReason.NOT_CLOSED_AFTER_SENTINEL)
COUNT_CHECK = "payload.count"  # already says a client got another number of events


def _response_problem(cap: Capture) -> str | None:
    """Why a client got no stream at all (no response, or not a 200), or None."""
    if cap.status is None:
        return f"no response ({cap.end_reason}: {cap.end_message})"
    if cap.status != 200:
        return f"status {cap.status}"
    return None


def stream_problems(cap: Capture, profile: Profile) -> dict[str, str]:
    """Why one client's stream is not a complete, correct stream: reasons by check id (empty: it is).

    The stream is judged by the catalogue's own per-client checks (the payload checks and those
    of the profile's contract, see :func:`~conformance.checks.registry.per_client`) on a context
    built for this capture, so an extra client is held to exactly what the main one is. Besides
    them: ``"status"`` when there is no 200 stream at all, ``"empty"`` when no event arrived and
    no check said so. Raises whatever a crashing check raises (the runner turns that into a fail).
    """
    if (why := _response_problem(cap)) is not None:
        return {"status": why}
    ctx = CheckContext(cap, profile)
    out: dict[str, str] = {}
    for spec in per_client():
        outcome = spec.fn(ctx)
        if spec.result(outcome).verdict is Verdict.FAIL:
            out[spec.id] = outcome.reason
    if not cap.events and not out:
        out["empty"] = f"no event ({cap.end_reason})"
    return out


def own_problems(
    cap: Capture, main: Capture, profile: Profile, theirs: Mapping[str, str]
) -> list[str]:
    """Problems of an extra client that the main capture (whose problems are ``theirs``, from
    :func:`stream_problems`) does not share. Raises only what :func:`stream_problems` raises.

    A defect every client sees (a missing sentinel, non-JSON data) is the payload checks' to
    report; these checks look for what differs between clients: a shared generator splits the
    messages among them, a wedged server starves the next one.
    """
    mine = stream_problems(cap, profile)
    out = [text for kind, text in mine.items() if kind not in theirs]
    both_complete = cap.end_reason in COMPLETE and main.end_reason in COMPLETE
    already_said = COUNT_CHECK in mine and COUNT_CHECK not in theirs
    if both_complete and len(cap.events) != len(main.events) and not already_said:
        out.append(f"{len(cap.events)} events, the main stream had {len(main.events)}")
    return out


def _cut_like(main: Capture, cut: Capture) -> Capture:
    """The main capture as if it had ended where (and how) ``cut`` did: its first events only."""
    return dataclasses.replace(
        main,
        events=main.events.prefix(len(cut.events)),
        end_reason=cut.end_reason,
        end_message=cut.end_message,
    )


def _not_judged(ctx: CheckContext, run: object, count: int) -> Outcome | None:
    if run is None or count == 0:
        return skipped("not run (0 clients, or skipped)")
    if (early := require_stream(ctx)) is not None:
        return early
    return None


PATIENCE_MARGIN = 1.25  # on top of what the main stream showed (a busy machine, a slow tick)


def follow_up_patience(main: Capture, profile: Profile) -> float:
    """How long a client that connects later may wait for its first event: what the main
    capture showed (its time to the first event plus its longest gap between events: a client
    that arrives just after a broadcast tick waits a whole period), with a margin, and never
    less than first_event_timeout. Never raises."""
    limit = profile.first_event_timeout
    if not main.events:
        return limit
    times = (t for t, _, _ in time_runs(main.events))  # a gap is between reads: no event built
    shown = main.events[0].t + max((b - a for a, b in itertools.pairwise(times)), default=0.0)
    return max(limit, PATIENCE_MARGIN * shown)


def together_patience(main: Capture, profile: Profile) -> float:
    """How long a client that connected with the main one may wait for its first event:
    first_event_timeout, or the main stream's own time to it plus half that limit. Never raises."""
    limit = profile.first_event_timeout
    return limit if not main.events else max(limit, main.events[0].t + limit / 2)


def _first_event_problem(cap: Capture, allowed: float, start: float) -> str | None:
    """Why this client's first event was too late ("no event yet within N s"), or None."""
    if cap.events:
        first = cap.events[0].t
        if first > allowed:
            return f"its first event came after {first:.2f} s (limit {allowed:.3g} s)"
        return None
    if cap.status == 200 and cap.t_end - start >= allowed:
        return f"no event yet within {allowed:.3g} s ({cap.end_reason})"
    return None


def _span(cap: Capture) -> tuple[float, float] | None:
    """When this client's stream was open, on the monotonic clock: headers to end."""
    if cap.t_headers is None:
        return None
    return cap.started_at + cap.t_headers, cap.started_at + cap.t_end


OVERLAP_SLACK = 0.05  # seconds: streams that arrive whole at once still count as open together


def _open_together(spans: list[tuple[float, float]]) -> bool:
    """Whether every stream was open at one moment. A server that sends each response whole (a
    buffered body) opens and ends them within milliseconds of each other, so the last opening may
    trail the first end by scheduling noise: a small slack. One that serves clients one after
    another opens the next only a whole stream after the previous ended."""
    return max(s[0] for s in spans) < min(s[1] for s in spans) + OVERLAP_SLACK


def _timeline(main: Capture, caps: list[Capture]) -> list[str]:
    """Each client's first event and open span, in seconds since the main request."""
    out = []
    for i, cap in enumerate(caps, 1):
        base = cap.started_at - main.started_at
        first = f"first event at t={base + cap.events[0].t:.2f} s" if cap.events else "no event"
        span = _span(cap)
        opened = (
            f", open t={span[0] - main.started_at:.2f}..{span[1] - main.started_at:.2f} s"
            if span
            else ""
        )
        out.append(f"client {i}: {first}{opened}")
    return out


@check(
    "stream.concurrent",
    "Simultaneous clients each get a complete stream of their own, at the same time",
    SPEC_PROCESSING,
    Severity.MUST,
    needs=("concurrent",),
    reads="each concurrent client: its events as the payload checks read them (the expected "
    "type), its first-event time and when it was open; the main connection's the same way",
    doc="""pass: each of `concurrency` (3) clients, connected alongside the main capture, got a
    complete, correct stream, or at least the same stream as the main capture (whose own defects
    the payload checks report), with its first event within first_event_timeout of its own
    request (or as fast as the main stream's), and all the streams were open at once. fail: a
    client got part of the stream (one generator shared by all clients), nothing, or an error;
    or the clients were served one after another (a single-threaded server: a second browser
    tab gets nothing until the first stream ends), with the serial timeline as evidence. skip:
    concurrency 0, not run, or no 200 main stream.""",
)
def concurrent(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := _not_judged(ctx, ctx.concurrent, ctx.profile.concurrency)) is not None:
        return early
    assert ctx.concurrent is not None
    main, profile = ctx.capture, ctx.profile
    theirs = stream_problems(main, profile)
    allowed = together_patience(main, profile)
    bad: list[str] = []
    evidence: list[Evidence] = []
    for i, cap in enumerate(ctx.concurrent, 1):
        problems = own_problems(cap, main, profile, theirs)
        late = _first_event_problem(cap, allowed, 0.0)
        if late is not None:
            problems.insert(0, late)
        if problems:
            bad.append(f"client {i}: {'; '.join(problems)}")
            evidence.append(
                Evidence(
                    None,
                    f"{'; '.join(problems)} (ended: {cap.end_reason})",
                    cap.t_end,
                    f"client {i}",
                )
            )
    spans = [_span(c) for c in (main, *ctx.concurrent)]
    opened = [s for s in spans if s is not None]
    overlap = len(opened) == len(spans) and _open_together(opened)
    counts = ", ".join(str(len(c.events)) for c in ctx.concurrent)
    if not overlap and not bad:
        timeline = _timeline(main, [main, *ctx.concurrent])
        return problem(
            f"the {len(ctx.concurrent)} concurrent clients' streams were never all open at once: "
            "the server serves them one at a time (a second browser tab would get nothing "
            "until the first stream ends)",
            *(Evidence(None, line, None, "timeline") for line in timeline[: MAX_EVIDENCE + 1]),
        )
    if bad:
        if not overlap:
            bad[0] += " (served one at a time)"
        return problem(
            f"{len(bad)} of {len(ctx.concurrent)} concurrent clients got a broken stream: {bad[0]}",
            *evidence[:MAX_EVIDENCE],
            *(
                Evidence(None, line, None, "timeline")
                for line in ([] if overlap else _timeline(main, [main, *ctx.concurrent]))
            ),
        )
    stream = (
        "the full stream" if main.end_reason in COMPLETE else "the same stream as the main capture"
    )
    return passed(
        f"{len(ctx.concurrent)} concurrent clients each got {stream} (events: {counts}; "
        f"main {len(main.events)}), all open at once"
    )


@check(
    "stream.disconnect",
    "After clients abort mid-stream, a new client still gets a full stream promptly",
    SPEC_PROCESSING,
    Severity.MUST,
    needs=("disconnect",),
    reads="the aborting clients' first events and ends; the follow-up client's events as the "
    "payload checks read them (the expected type) and its time to the first event, against the "
    "main connection's first event and longest gap",
    doc="""pass: after `disconnect_clients` (3) clients hung up mid-stream, a new client's stream
    started within the patience the main stream earns (its time to the first event plus its
    longest gap between events, x1.25, at least first_event_timeout: a client that connects
    just after a broadcast tick waits a whole period) and was as complete and correct as the
    main stream. fail: no event yet within that time (a server that wedges after a disconnect,
    or serves one client at a time: an aborting client that never got its event says so), or a
    stream cut short or broken. The follow-up starts when the aborting clients have hung up
    and gets what is left of the run's deadline: cut there, it is judged on what arrived. skip:
    not run, no 200 main stream, no client could abort mid-stream (no event to abort after, or
    the whole stream arrived at once), or the deadline left the follow-up less than its patience
    and no event came.""",
)
def disconnect(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    run = ctx.disconnect
    if (early := _not_judged(ctx, run, ctx.profile.disconnect_clients)) is not None:
        return early
    assert run is not None
    main, profile = ctx.capture, ctx.profile
    whole = len(main.events) if main.end_reason in COMPLETE else None
    aborted = [
        c
        for c in run.aborted
        if c.end_reason is EndReason.ABORTED and (whole is None or len(c.events) < whole)
    ]
    together = together_patience(main, profile)
    starved = [
        (i, late)
        for i, c in enumerate(run.aborted, 1)
        if (late := _first_event_problem(c, together, 0.0)) is not None
        or (c.status is None and not c.end_reason.unreachable)
    ]
    if not aborted and starved and len(main.events) > profile.disconnect_after_events:
        # The main stream had events to abort after, but these clients got none in time.
        first_i, late = starved[0]
        cap = run.aborted[first_i - 1]
        why = late or f"no response ({cap.end_reason}: {cap.end_message})"
        return problem(
            f"a new client got no event in time: {len(starved)} of {len(run.aborted)} aborting "
            f"clients, connected with the main one, never got the event to abort after; "
            f"aborting client {first_i}: {why} (a server that serves one client at a time?)",
            *(
                Evidence(
                    None,
                    f"ended: {c.end_reason} ({c.end_message})",
                    c.t_end,
                    f"aborting client {i}",
                )
                for i, c in enumerate(run.aborted, 1)
            ),
        )
    if not aborted:
        if any(c.end_reason is EndReason.ABORTED for c in run.aborted):
            return skipped("the whole stream arrived at once: no client could abort mid-stream")
        ends = ", ".join(sorted({str(c.end_reason) for c in run.aborted})) or "none"
        return skipped(f"no client could abort mid-stream (they ended: {ends})")
    patience = follow_up_patience(main, profile)
    problems: list[str] = []
    # The aborting clients connected with the main one: each should have got its events.
    for i, cap in enumerate(run.aborted, 1):
        late = _first_event_problem(cap, together, 0.0)
        if late is not None:
            problems.append(f"aborting client {i}: {late}")
        elif cap.end_reason is not EndReason.ABORTED and not cap.end_reason.by_server:
            problems.append(
                f"aborting client {i} got {plural(len(cap.events), 'event')} and gave up "
                f"({cap.end_reason}: {cap.end_message})"
            )
    follow = run.follow_up
    if follow is None:
        return problem("the follow-up client did not run")
    left = run.follow_up_deadline
    # The follow-up gets what is left of the run's deadline: cut there, it is judged on what
    # arrived (as a held stream is), and not at all if that was less than its patience.
    cut = left is not None and follow.end_reason is EndReason.DEADLINE
    if cut and left is not None and not follow.events and left < patience:
        return skipped(
            f"the run's deadline left the follow-up client {left:.3g} s, less than its "
            f"patience ({patience:.3g} s), and no event came in that time"
        )
    theirs = stream_problems(main, profile)
    if cut:  # what the main stream cut at the same event would show is not the follow-up's
        theirs = {**theirs, **stream_problems(_cut_like(main, follow), profile)}
    late = _first_event_problem(follow, patience, 0.0)
    if late is not None:
        problems.append(f"the new client: {late}")
    problems += own_problems(follow, main, profile, theirs)
    if problems:
        stalled = late is not None or not follow.events or problems[0].startswith("aborting")
        head = "a new client got no event in time" if stalled else "a new stream was broken"
        return problem(
            f"after {len(aborted)} clients aborted, {head}: {'; '.join(problems)}",
            Evidence(
                None,
                f"{len(follow.events)} events, ended: {follow.end_reason} ({follow.end_message}); "
                f"patience {patience:.3g} s",
                follow.t_end,
                "follow-up client",
            ),
        )
    first = follow.events[0].t if follow.events else 0.0
    return passed(
        f"{len(aborted)} clients aborted; a new stream started in {first * 1000:.0f} ms "
        f"(patience {patience:.3g} s) and completed ({plural(len(follow.events), 'event')})"
    )
