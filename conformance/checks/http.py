"""HTTP-level checks: what EventSource requires of the response before it parses a single byte."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.checks.context import CheckContext, header_evidence, require_stream
from conformance.checks.registry import READS_HEAD, check
from conformance.checks.spec_links import SPEC_AUTHORING, SPEC_PROCESSING
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped, warning


def media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lowercased) and its parameters (names lowercased, quotes removed).
    Never raises."""
    essence, *params = value.split(";")
    out: dict[str, str] = {}
    for param in params:
        name, sep, val = param.partition("=")
        if sep:
            out[name.strip().lower()] = val.strip().strip('"')
    return essence.strip().lower(), out


@check(
    "http.status",
    "The response status is 200 OK",
    SPEC_PROCESSING,
    Severity.MUST,
    reads="the main connection's status line (and the redirects before it)",
    doc="""pass: 200. fail: any other status (EventSource fails the connection and does not
    reconnect; 204 is how a server asks clients to stop), or no response at all (the reason says
    how the capture ended: first-byte timeout, protocol error...).""",
)
def status(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    cap = ctx.capture
    if cap.status is None:
        return problem(f"no HTTP response: {cap.end_reason} ({cap.end_message})")
    line = Evidence(None, f"{cap.http_version} {cap.status} {cap.reason_phrase}".strip())
    via = f" after {len(cap.redirects)} redirect(s)" if cap.redirects else ""
    if cap.status == 200:
        return passed(f"200 OK{via}")
    if cap.status == 204:
        return problem(
            "204 No Content: the server asked clients to stop (EventSource closes, never reconnects)",
            line,
        )
    return problem(
        f"status {cap.status}{via}: EventSource fires error and closes without reconnecting", line
    )


@check(
    "http.content-type",
    "Content-Type is text/event-stream",
    SPEC_PROCESSING,
    Severity.MUST,
    reads=READS_HEAD,
    doc="""pass: the media type is text/event-stream (any case; parameters allowed). fail: another
    type or none: EventSource fails the connection.""",
)
def content_type(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    value = ctx.capture.header("content-type")
    if value is None:
        return problem(
            "no Content-Type: EventSource fails the connection",
            header_evidence("content-type", None),
        )
    essence, _ = media_type(value)
    if essence == "text/event-stream":
        return passed(f"Content-Type: {value}")
    return problem(
        f"media type {essence or '(empty)'!r} is not text/event-stream: EventSource fails the connection",
        header_evidence("content-type", value),
    )


@check(
    "http.cache-control",
    "Cache-Control forbids caching",
    SPEC_AUTHORING,
    Severity.SHOULD,
    reads=READS_HEAD,
    doc="""pass: Cache-Control contains no-cache or no-store. warn: absent or allowing caching
    (a cache or proxy may serve or hold back a stale stream).""",
)
def cache_control(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    values = ctx.capture.header_all("cache-control")
    if not values:
        return warning(
            "no Cache-Control: caches and proxies may store or delay the stream (send no-cache)",
            header_evidence("cache-control", None),
        )
    joined = ", ".join(values)
    directives = {d.strip().split("=")[0].lower() for d in joined.split(",")}
    if directives & {"no-cache", "no-store"}:
        return passed(f"Cache-Control: {joined}")
    return warning(
        f"Cache-Control: {joined} allows caching (send no-cache)",
        header_evidence("cache-control", joined),
    )


@check(
    "http.content-encoding",
    "The stream is not compressed",
    SPEC_AUTHORING,
    Severity.SHOULD,
    reads="the main connection's headers, its wire and decoded byte counts and how decoding ended",
    doc="""pass: no Content-Encoding (or identity). warn: compressed; browsers decode it (the suite
    judged the decoded body) but compressors buffer, which delays or batches events.""",
)
def content_encoding(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap = ctx.capture
    value = cap.content_encoding
    if value is None or value.strip().lower() in ("", "identity"):
        return passed("not compressed")
    return warning(
        f"Content-Encoding: {value}: compressors buffer events; the suite judged the decoded body "
        f"({cap.decoded_bytes} bytes decoded from {cap.raw_bytes} on the wire)",
        header_evidence("content-encoding", value),
    )


@check(
    "http.content-length",
    "No Content-Length (the body is streamed)",
    SPEC_AUTHORING,
    Severity.SHOULD,
    reads=READS_HEAD,
    doc="""pass: no Content-Length (chunked or close-delimited). warn: a Content-Length means the
    server knew the whole body before sending it, so it was buffered, not streamed.""",
)
def content_length(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    value = ctx.capture.header("content-length")
    if value is None:
        return passed("no Content-Length: streamed")
    return warning(
        f"Content-Length: {value}: the body was complete before it was sent (buffered, not streamed)",
        header_evidence("content-length", value),
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


@check(
    "http.redirect",
    "Redirects, if any, stay usable by EventSource",
    SPEC_PROCESSING,
    Severity.SHOULD,
    reads="the main connection's redirects and final headers",
    doc="""skip: no redirect. pass: redirects were followed (as EventSource does) within the origin.
    warn: a redirect to another origin (the final response then needs CORS headers for a page on
    the first origin).""",
)
def redirect(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    cap = ctx.capture
    if not cap.redirects:
        return skipped("no redirect")
    chain = " -> ".join(f"{r.status} {r.location}" for r in cap.redirects)
    evidence = [Evidence(None, f"{r.status} Location: {r.location}") for r in cap.redirects]
    if _origin(cap.redirects[0].url) != _origin(cap.url):
        acao = cap.header("access-control-allow-origin")
        if acao is None:
            return warning(
                f"redirected to another origin ({chain}) without Access-Control-Allow-Origin: "
                "a page on the first origin cannot read it",
                *evidence,
            )
    return passed(f"followed {chain}")
