"""Framing checks: is the byte stream well formed, and does it mean what its author meant?

The parser (spec-exact) already knows what a browser does with every byte; these checks turn its
observations into verdicts with the byte offsets it recorded.
"""

from __future__ import annotations

import re

from conformance.capture.model import EndReason
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    body_evidence,
    observation_evidence,
    observations,
    plural,
    require_stream,
)
from conformance.checks.registry import READS_BYTES, check
from conformance.checks.spec_links import SPEC_INTERPRETING, SPEC_PARSING
from conformance.models import Outcome, OutcomeKind, Severity, passed, problem, skipped, warning
from conformance.parser import ObservationKind


def _warn_on(ctx: CheckContext, kinds: tuple[ObservationKind, ...], what: str, ok: str) -> Outcome:
    if (early := require_stream(ctx, body=True)) is not None:
        return early
    found = observations(ctx.capture, *kinds)
    if not found:
        return passed(ok)
    first = found[0]
    return problem(
        f"{plural(len(found), what)}; first at byte {first.offset}: {first.detail}",
        *(observation_evidence(o) for o in found[:MAX_EVIDENCE]),
    )


@check(
    "framing.utf8",
    "The stream is valid UTF-8",
    SPEC_PARSING,
    Severity.MUST,
    reads=READS_BYTES,
    doc="""pass: every byte decodes as UTF-8. fail: invalid bytes, which browsers turn into U+FFFD
    (the page receives different text than was sent).""",
)
def utf8(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    outcome = _warn_on(
        ctx, (ObservationKind.INVALID_UTF8,), "invalid UTF-8 sequence", "valid UTF-8"
    )
    if outcome.kind is OutcomeKind.PROBLEM:
        return problem(outcome.reason + " (browsers show U+FFFD)", *outcome.evidence)
    return outcome


@check(
    "framing.terminated",
    "The last event ends with a blank line",
    SPEC_INTERPRETING,
    Severity.MUST,
    reads=READS_BYTES,
    doc="""pass: the server ended the stream between events. fail: it ended inside an event with data
    (no blank line after it): browsers discard that event. warn: it ended inside a block without
    data (its id and event lines are never applied; a retry line took effect when it was parsed).
    skip: the capture stopped before the server ended the stream (a limit), so there is no last
    event to judge.""",
)
def terminated(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    cap = ctx.capture
    if (early := require_stream(ctx, body=True)) is not None:
        return early
    if not cap.end_reason.by_server:
        return skipped(f"the server did not end the stream ({cap.end_reason})")
    found = observations(cap, ObservationKind.TRAILING_PARTIAL)
    if not found:
        return passed("the stream ended after a complete event")
    first = found[0]
    tail = cap.body[first.offset :]
    if first.offset == 0 and tail.startswith(b"\xef\xbb\xbf"):
        tail = tail[3:]  # the BOM is not part of the first field name
    if _has_data_line(tail):
        return problem(
            f"the stream ended inside an event at byte {first.offset} (no blank line): "
            "browsers discard it",
            observation_evidence(first),
        )
    return warning(
        f"the stream ended inside a block without data at byte {first.offset} (no blank line): "
        "nothing reaches the page, but its id and event lines are never applied (a retry line "
        "is: it takes effect when parsed)",
        observation_evidence(first),
    )


def _has_data_line(tail: bytes) -> bool:
    """Whether the unterminated tail carries a ``data`` field (a message a browser will drop)."""
    return any(line.partition(b":")[0] == b"data" for line in re.split(rb"\r\n|\r|\n", tail))


@check(
    "framing.fields",
    "Every line is a known field, a comment or blank",
    SPEC_INTERPRETING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: only data/event/id/retry fields, comments and blank lines. warn: unknown field names
    or lines without a colon (browsers ignore them; usually a typo such as `date:` or a missing
    `data: ` prefix).""",
)
def fields(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    return _warn_on(
        ctx,
        (ObservationKind.UNKNOWN_FIELD, ObservationKind.NO_COLON),
        "ignored line",
        "only known fields, comments and blank lines",
    )


@check(
    "framing.retry",
    "retry values are ASCII digits",
    SPEC_INTERPRETING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: every retry value is all ASCII digits (or there is none). warn: a retry value with
    anything else (browsers ignore the whole field).""",
)
def retry(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    return _warn_on(
        ctx, (ObservationKind.BAD_RETRY,), "ignored retry field", "retry fields valid or absent"
    )


@check(
    "framing.id",
    "ids contain no NUL",
    SPEC_INTERPRETING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: no id contains U+0000. warn: an id with NUL (browsers ignore the field, so the last
    event ID does not change).""",
)
def event_id(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    return _warn_on(ctx, (ObservationKind.NUL_ID,), "ignored id with NUL", "ids valid or absent")


@check(
    "framing.dispatch",
    "No block sets an event type it never dispatches",
    SPEC_INTERPRETING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: every block without data does what its author meant: an `id`-only block sets the
    last event ID (the dispatch step sets it before returning on an empty data buffer; Chromium
    does so on every blank line), a `retry`-only block sets the reconnection time (applied when
    the line is parsed), comment-only blocks are keep-alives. warn: a block with `event:` but no
    data: nothing is dispatched, so its event type is never used (unknown fields are
    framing.fields' business).""",
)
def dispatch(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    return _warn_on(
        ctx,
        (ObservationKind.NO_DATA_BLOCK,),
        "block with an event type but no data (never dispatched)",
        "every block without data does what it says (id, retry, comments)",
    )


@check(
    "framing.line-endings",
    "One line-ending style",
    SPEC_PARSING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: LF, CRLF or CR used consistently (all are valid). warn: styles mixed (valid, but a
    sign that two writers share the stream; some non-browser clients mishandle CR).""",
)
def line_endings(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx, body=True)) is not None:
        return early
    used = {k: v for k, v in ctx.capture.line_endings.items() if v}
    if not used:
        return skipped("no complete line")
    summary = ", ".join(f"{k} x{v}" for k, v in sorted(used.items()))
    if len(used) == 1:
        return passed(f"{summary} (valid)")
    firsts = sorted(ctx.capture.first_line_ending.items(), key=lambda kv: kv[1])
    evidence = [
        body_evidence(ctx.capture, max(0, offset - 16), 32)
        for style, offset in firsts
        if style in used
    ]
    return problem(f"mixed line endings: {summary} (valid, but unusual)", *evidence)


@check(
    "framing.line-length",
    "No line is excessively long",
    SPEC_PARSING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: the longest line is under the profile's max_line_warn (1 MiB). warn: a longer line
    (browsers buffer it whole; many client libraries cap lines), or one beyond the suite's
    max_line_bytes, whose rest the suite dropped.""",
)
def line_length(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx, body=True)) is not None:
        return early
    cap = ctx.capture
    cut = observations(cap, ObservationKind.LINE_TOO_LONG)
    if cut:
        return problem(
            f"a line longer than {ctx.profile.limits.max_line_bytes} bytes: "
            "the suite dropped its rest (judged data is truncated)",
            observation_evidence(cut[0]),
        )
    if cap.longest_line > ctx.profile.max_line_warn:
        # rare, so a scan is fine: the first line over the threshold, for the evidence
        found = re.search(rb"[^\r\n]{%d,}" % (ctx.profile.max_line_warn + 1), cap.body)
        evidence = [body_evidence(cap, found.start())] if found else []
        return problem(
            f"a line of {cap.longest_line} bytes (over {ctx.profile.max_line_warn}): "
            "clients hold it whole in memory",
            *evidence,
        )
    if cap.end_reason in (EndReason.MAX_BYTES,) and not cap.events:
        return problem("max-bytes reached without a single event: one endless line?")
    return passed(f"longest line {cap.longest_line} bytes")
