"""The connection under the stream: which HTTP version a browser would get.

Over HTTP/1.1 a browser opens at most 6 connections per origin (Chromium and Firefox, WontFix),
and every open EventSource holds one: the 7th tab's stream, or any other request to that origin,
hangs silently until one closes. HTTP/2 multiplexes every stream on one connection (about 100
concurrent streams), so the limit is gone. Browsers speak HTTP/2 over TLS only, so the check is
about ``https://`` endpoints.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.checks.context import CheckContext
from conformance.checks.registry import check
from conformance.checks.spec_links import SPEC_AUTHORING
from conformance.models import Evidence, Outcome, Severity, passed, skipped, warning

SIX_CONNECTIONS = (
    "browsers open at most 6 HTTP/1.1 connections per origin and each EventSource holds one, "
    "so a 7th tab's stream (or any other request to the origin) hangs until one closes"
)


@check(
    "http.version",
    "Over TLS the server offers HTTP/2 (no 6-connections-per-origin limit)",
    SPEC_AUTHORING,
    Severity.SHOULD,
    reads="the negotiated HTTP version of the main connection (https only)",
    doc="""skip: plain http:// (browsers speak HTTP/2 over TLS only: the 6-connection limit
    always applies there), or no response. pass: HTTP/2 (or later) was negotiated. warn: the
    server offered only HTTP/1.1 over TLS: browsers open at most 6 connections per origin and each
    open EventSource holds one, so a 7th tab's stream hangs silently.""",
)
def version(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    cap = ctx.capture
    url = cap.url or cap.request.url
    if urlsplit(url).scheme.lower() != "https":
        return skipped(
            "plain http: browsers speak HTTP/2 over TLS only (over http:// the 6-connections-"
            "per-origin limit always applies)"
        )
    if cap.status is None:
        return skipped(f"no response ({cap.end_reason}); http.status reports it")
    negotiated = cap.http_version or "(unknown)"
    if negotiated.upper().startswith("HTTP/1"):
        return warning(
            f"{negotiated} only (HTTP/2 was offered by ALPN): {SIX_CONNECTIONS}; enable HTTP/2",
            Evidence(None, f"{negotiated} {cap.status} {cap.reason_phrase}".strip()),
        )
    return passed(f"{negotiated}: every stream shares one connection (no 6-per-origin limit)")
