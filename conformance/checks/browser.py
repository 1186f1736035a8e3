"""Valid by the spec, broken in real browsers: each deviation gets its own warning.

Users care what browsers do. These were observed in Chromium (see the project's shared notes);
the spec-level checks stay green for such streams, these say what a page will actually see.
"""

from __future__ import annotations

from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    header_evidence,
    observation_evidence,
    observations,
    require_stream,
)
from conformance.checks.mime import extract_mime_type
from conformance.checks.registry import READS_BYTES, READS_HEAD, check
from conformance.checks.spec_links import SPEC_INTERPRETING, SPEC_PARSING, SPEC_PROCESSING
from conformance.models import Outcome, Severity, passed, skipped, warning
from conformance.parser import ObservationKind


@check(
    "browser.charset",
    "No non-UTF-8 charset parameter (Chromium refuses the stream)",
    SPEC_PROCESSING,
    Severity.SHOULD,
    reads=READS_HEAD,
    doc="""pass: no charset parameter, or utf-8. warn: another charset: the spec says to ignore it
    and decode UTF-8, but Chromium aborts the connection.""",
)
def charset(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx, head_only=True)) is not None:
        return early
    values = ctx.capture.header_all("content-type")
    mime = extract_mime_type(values)  # what Chromium reads: the last parsable value
    if mime is None:
        return skipped("no parsable Content-Type")
    value = ", ".join(values)
    cs = mime.charset
    if cs is None or cs.lower() in ("utf-8", "utf8"):
        return passed("no charset other than utf-8")
    return warning(
        f"charset={cs}: valid (the spec ignores it), but Chromium refuses the stream",
        header_evidence("content-type", value),
    )


@check(
    "browser.bom-line-end",
    "A leading BOM is not followed by a bare LF or CR (Chromium drops the first block)",
    SPEC_PARSING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: no BOM, or a BOM followed by anything but LF/CR (CRLF works). warn: BOM then LF or a
    lone CR: valid, but Chromium dispatches nothing for the first block.""",
)
def bom_line_end(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    found = observations(ctx.capture, ObservationKind.BOM_BARE_LINE_END)
    if found:
        return warning(
            "a BOM followed directly by a line ending: Chromium drops the first block (the spec keeps it)",
            observation_evidence(found[0]),
        )
    if observations(ctx.capture, ObservationKind.BOM):
        return passed("BOM present and harmless")
    return passed("no BOM")


@check(
    "browser.empty-retry",
    "No empty retry field (Chromium resets its reconnection delay)",
    SPEC_INTERPRETING,
    Severity.SHOULD,
    reads=READS_BYTES,
    doc="""pass: no `retry:` with an empty value. warn: the spec ignores an empty retry, Chromium
    resets the reconnection delay to its default.""",
)
def empty_retry(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    found = observations(ctx.capture, ObservationKind.EMPTY_RETRY)
    if found:
        return warning(
            f"{len(found)} empty retry field(s): ignored by the spec, Chromium resets its reconnection delay",
            *(observation_evidence(o) for o in found[:MAX_EVIDENCE]),
        )
    return passed("no empty retry field")
