"""HTTP-level checks: what EventSource requires of the response before it parses a single byte."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.capture.model import EndReason
from conformance.checks.context import CheckContext, compression, header_evidence, require_stream
from conformance.checks.mime import extract_mime_type, split_values
from conformance.checks.registry import READS_HEAD, check
from conformance.checks.spec_links import SPEC_AUTHORING, SPEC_PROCESSING, SPEC_RFC9111_NO_CACHE
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped, warning


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
    doc="""pass: the media type is text/event-stream (any case; parameters allowed), read as Fetch's
    "extract a MIME type" and Chromium do: with several Content-Type values the last parsable one
    wins. fail: another type or none: EventSource fails the connection. warn: text/event-stream,
    but from duplicate Content-Type headers (a client that reads the first may see another).""",
)
def content_type(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx, head_only=True)) is not None:
        return early
    values = ctx.capture.header_all("content-type")
    if not values:
        return problem(
            "no Content-Type: EventSource fails the connection",
            header_evidence("content-type", None),
        )
    # What the browser reads: Fetch's "extract a MIME type" (the last parsable value wins, as in
    # Chromium), not the first header.
    mime = extract_mime_type(values)
    shown = ", ".join(values)
    evidence = [header_evidence("content-type", v) for v in values]
    parts = len(split_values(values))
    several = parts > 1
    what = f"{len(values)} Content-Type headers" if len(values) > 1 else f"{parts} values"
    note = f" ({what}: browsers use the last parsable one)" if several else ""
    if mime is None:
        return problem(
            f"Content-Type {shown!r} has no parsable media type: EventSource fails the connection",
            *evidence,
        )
    if mime.essence != "text/event-stream":
        return problem(
            f"media type {mime.essence!r} is not text/event-stream{note}: EventSource fails "
            "the connection",
            *evidence,
        )
    if several:
        return warning(
            f"the media type browsers read is text/event-stream, but{note[:-1]}; a client that "
            "reads the first may see another)",
            *evidence,
        )
    return passed(f"Content-Type: {shown}")


@check(
    "http.cache-control",
    "Cache-Control keeps intermediaries from caching the stream",
    SPEC_RFC9111_NO_CACHE,
    Severity.SHOULD,
    reads=READS_HEAD,
    doc="""The browser itself never caches an event stream: EventSource fetches with cache mode
    "no-store" (WHATWG HTML, the EventSource constructor). The header is for intermediaries (RFC
    9111): proxies and CDNs. pass: Cache-Control contains no-cache or no-store. warn: absent or
    allowing caching (a shared cache or proxy may store the stream, or hold it back).""",
)
def cache_control(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx, head_only=True)) is not None:
        return early
    values = ctx.capture.header_all("cache-control")
    why = (
        "EventSource never caches (cache mode no-store), but caches and proxies between it and "
        "the server may store or delay the stream (RFC 9111; send no-cache)"
    )
    if not values:
        return warning(f"no Cache-Control: {why}", header_evidence("cache-control", None))
    joined = ", ".join(values)
    directives = {d.strip().split("=")[0].lower() for d in joined.split(",")}
    if directives & {"no-cache", "no-store"}:
        return passed(f"Cache-Control: {joined}")
    return warning(
        f"Cache-Control: {joined} allows caching: {why}",
        header_evidence("cache-control", joined),
    )


@check(
    "http.content-encoding",
    "The stream is not compressed, or compressed as browsers decode it",
    SPEC_PROCESSING,
    Severity.MUST,
    reads="the main connection's headers, its wire and decoded byte counts and how decoding ended",
    doc="""pass: no Content-Encoding (or identity), or compressed with a coding Chromium decodes
    (gzip, deflate, br, zstd) and decoded to its end: the suite decoded it the same way and
    judged the decoded body. Whether the compressor held events back is not guessed here:
    stream.incremental judges the arrival times and names the compression when it fails.
    warn: bytes came after the first gzip member (Chromium ignores them; the reason says how
    many). warn: a coding Chromium does not know: it passes the body through undecoded, and so
    did the suite. fail: the body cannot be decoded (Chromium fails the request); every check of
    the body then skips.""",
)
def content_encoding(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx, head_only=True)) is not None:
        return early
    cap = ctx.capture
    value = compression(cap)
    evidence = header_evidence("content-encoding", cap.content_encoding)
    sizes = f"{cap.decoded_bytes} bytes decoded from {cap.raw_bytes} on the wire"
    if cap.end_reason is EndReason.DECODE_ERROR:
        return problem(
            f"Content-Encoding: {value}: {cap.end_message} ({sizes}); browsers fail the request",
            evidence,
            Evidence(cap.decoded_bytes, f"decoding stopped here ({sizes})", cap.t_end),
        )
    if value is None:
        return passed("not compressed")
    if cap.unknown_codings:
        return warning(
            f"Content-Encoding: {value}: {', '.join(cap.unknown_codings)} is not a coding "
            "Chromium decodes: it passes the body through undecoded, and the suite judged those "
            "raw bytes",
            evidence,
        )
    ignored = "".join(
        f"; {n} bytes after the first gzip member are ignored by Chromium"
        if coding in ("gzip", "x-gzip")
        else f"; {n} bytes after the end of the {coding} data are ignored"
        for coding, n in cap.ignored_after_end
    )
    if ignored:
        return warning(
            f"Content-Encoding: {value}: the suite judged the decoded body ({sizes}){ignored}",
            evidence,
        )
    return passed(
        f"Content-Encoding: {value}, decoded as Chromium decodes it ({sizes}); whether the "
        "compressor held events back is stream.incremental's verdict"
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
    if (early := require_stream(ctx, head_only=True)) is not None:
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
    the first origin); a redirect that could not be followed: a loop or more than 20 redirects
    (Fetch's limit: EventSource fails with a network error), a scheme other than http(s), a place
    that cannot be reached (the hops and the cause are named).""",
)
def redirect(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    cap = ctx.capture
    if not cap.redirects:
        return skipped("no redirect")
    chain = " -> ".join(f"{r.status} {r.location}" for r in cap.redirects)
    evidence = [Evidence(None, f"{r.status} Location: {r.location}") for r in cap.redirects]
    if cap.status is None:  # a redirect that could not be followed: the capture names the hop
        return problem(cap.end_message or f"redirects not followed ({chain})", *evidence[:5])
    if _origin(cap.redirects[0].url) != _origin(cap.url):
        acao = cap.header("access-control-allow-origin")
        if acao is None:
            return warning(
                f"redirected to another origin ({chain}) without Access-Control-Allow-Origin: "
                "a page on the first origin cannot read it",
                *evidence,
            )
    return passed(f"followed {chain}")
