"""What a real browser dispatched: ``--browser`` opens the endpoint with a native ``EventSource`` in
headless Chromium (:mod:`conformance.browser`), and this check holds its events to the spec's.

The spec's events are the suite's parser over the bytes Chromium received (the same connection),
so live values that differ between connections are no difference. Chromium deviates from the spec
in two known ways that the suite already warns about (``browser.bom-line-end``,
``browser.charset``); when the whole difference is one of them, this check warns, names the
deviation and shows both sides, instead of failing: the server's bytes are valid, and the fix
(drop the BOM or the charset) is the one those warnings give. Any other difference fails.
"""

from __future__ import annotations

from conformance.browser.compare import (
    Expected,
    SpecEvent,
    compared,
    describe,
    dropped_first_only,
    expected,
    first_difference,
)
from conformance.browser.model import BrowserEvent, BrowserRun
from conformance.checks.context import MAX_EVIDENCE, CheckContext, header_evidence, plural
from conformance.checks.mime import extract_mime_type
from conformance.checks.registry import check
from conformance.checks.spec_links import SPEC_EVENTSOURCE
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped, warning

SPEC_SIDE = "spec (the suite)"
BROWSER_SIDE = "Chromium"
# Console lines that carry Chromium's reason for refusing a stream.
REFUSAL_WORDS = ("EventSource", "CORS", "blocked", "net::ERR", "status of")


@check(
    "browser.eventsource",
    "Headless Chromium's EventSource dispatched exactly the events the suite decoded",
    SPEC_EVENTSOURCE,
    Severity.MUST,
    needs=("browser",),
    reads="what headless Chromium's EventSource dispatched (every type), and the suite's events from the same body bytes",
    doc="""Runs with `--browser` only (skip otherwise). pass: Chromium (from a page at `--origin`,
    or the endpoint's own origin; `withCredentials` with `--with-credentials`) dispatched the same
    events, in order (type, data, lastEventId), as the suite's parser decodes from the bytes
    Chromium received. warn: the difference is a known Chromium deviation the suite already warns
    about (a BOM followed by LF: Chromium drops the first event, `browser.bom-line-end`; a
    non-UTF-8 charset: Chromium refuses the stream, `browser.charset`); both sides are shown.
    fail: any other difference (the first one, with its byte offset), or Chromium refused the
    stream (CORS, MIME type, status), in Chromium's words from its console.""",
)
def eventsource(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    run = ctx.browser
    if run is None:
        return skipped("not run: --browser opens the stream with a real EventSource in Chromium")
    if run.problem:
        return skipped(f"the browser run itself failed (no verdict on the server): {run.problem}")
    if not run.opened:
        return _refused(ctx, run)
    expect = expected(run, ctx.capture)
    spec, browser = compared(expect, run)
    diff = first_difference(spec, browser)
    source = _source(expect)
    if diff is None:
        return passed(f"Chromium dispatched the {plural(len(browser), 'event')} {source}")
    index, s, b = diff
    shown = _sides(expect, index, s, b)
    counts = f"{SPEC_SIDE}: {plural(len(spec), 'event')}, {BROWSER_SIDE}: {len(browser)}"
    if expect.bom_bare_line_end and dropped_first_only(spec, browser):
        return warning(
            "known Chromium deviation (browser.bom-line-end warns about it): a BOM followed by a "
            f"line ending; Chromium dropped the first event, the spec keeps it ({counts})",
            *shown,
        )
    return problem(
        f"Chromium's events differ from {source} at event #{index} ({counts})",
        *shown,
    )


def _source(expect: Expected) -> str:
    if not expect.from_browser_bytes:
        return "the suite decoded (its own capture: Chromium's bytes were not available)"
    if expect.same_bytes:
        return "the suite decodes from the same bytes (Chromium's connection = the suite's capture)"
    return "the suite decodes from the bytes Chromium received (a live stream: not the suite's)"


def _sides(
    expect: Expected, index: int, s: SpecEvent | None, b: BrowserEvent | None
) -> tuple[Evidence, ...]:
    """Both sides of the first difference, labelled; the spec side at its byte offset (in the
    suite's capture when the bytes are the same, else in the body Chromium received)."""
    if s is not None and expect.same_bytes:
        spec_side = Evidence(s.offset, f"{SPEC_SIDE} #{index}: {describe(s)}")
    elif s is not None:
        spec_side = Evidence(
            None, f"#{index} @{s.offset} of Chromium's body: {describe(s)}", label=SPEC_SIDE
        )
    else:
        spec_side = Evidence(None, f"#{index}: (no such event)", label=SPEC_SIDE)
    browser_side = Evidence(
        None, f"#{index}: {describe(b)}", b.t if b is not None else None, label=BROWSER_SIDE
    )
    return spec_side, browser_side


def _refused(ctx: CheckContext, run: BrowserRun) -> Outcome:
    """Chromium never opened the stream: say why in its words; a non-UTF-8 charset is the known
    deviation (warn), a 204 is the spec's "do not reconnect" (skip), anything else fails."""
    said = [line for line in run.console if any(w in line for w in REFUSAL_WORDS)]
    words = said[0] if said else "(Chromium said nothing on the console)"
    lines = [Evidence(None, line, label="Chromium console") for line in said[:MAX_EVIDENCE]]
    cap = ctx.capture
    if run.status == 204 and cap.status == 204:
        return skipped("204 No Content: the spec's way to stop a client; Chromium stopped too")
    mime = extract_mime_type(cap.header_all("content-type"))  # the one Chromium reads
    charset = (mime.charset or "") if mime is not None else ""
    if "charset" in words and charset.lower() not in ("", "utf-8", "utf8"):
        spec_events = cap.events  # Chromium read no further than the head: the suite's capture
        return warning(
            "known Chromium deviation (browser.charset warns about it): Chromium refused the "
            f"stream: {words!r}; the spec ignores the charset and decodes UTF-8 "
            f"({SPEC_SIDE}: {plural(len(spec_events), 'event')}, {BROWSER_SIDE}: 0)",
            header_evidence("content-type", ", ".join(cap.header_all("content-type")) or None),
            *lines,
        )
    status = f" (status {run.status})" if run.status is not None else ""
    return problem(
        f"Chromium refused the stream{status} from {run.origin}: {words}",
        *(lines or [Evidence(None, s.describe(), label=BROWSER_SIDE) for s in run.states[:1]]),
    )
