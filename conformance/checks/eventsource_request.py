"""Can a page open this endpoint with the browser's own ``EventSource`` at all?

``new EventSource(url, {withCredentials})`` takes nothing else: it sends GET, no body, and only
``Accept: text/event-stream`` (plus ``Last-Event-ID`` when it reconnects, and what the browser
adds itself: ``Cache-Control``, ``Origin``, ``Cookie``, ``User-Agent``...). An endpoint that needs
``Authorization``, an API key header or a JSON body works only with a fetch-based client
(``@microsoft/fetch-event-source`` and the like), which is a fine design (the LLM APIs are built
so), but a page author must know it.
"""

from __future__ import annotations

from conformance.checks.context import CheckContext
from conformance.checks.registry import check
from conformance.checks.spec_links import SPEC_CONSTRUCTOR
from conformance.models import Evidence, Outcome, Severity, passed, warning
from conformance.redaction import redact_headers

# What a native EventSource request can carry: its own headers and what the browser adds.
NATIVE_HEADERS = frozenset(
    {
        "accept",
        "cache-control",
        "last-event-id",
        # added by the browser, never by the page
        "accept-encoding",
        "accept-language",
        "connection",
        "cookie",
        "host",
        "origin",
        "pragma",
        "referer",
        "user-agent",
    }
)
FETCH_CLIENT = "such endpoints need a fetch-based client (e.g. @microsoft/fetch-event-source)"


def _not_native(name: str) -> bool:
    lname = name.lower()
    return lname not in NATIVE_HEADERS and not lname.startswith("sec-")


@check(
    "browser.plain-eventsource",
    "A plain EventSource can open it (GET, no body, no custom header)",
    SPEC_CONSTRUCTOR,
    Severity.SHOULD,
    reads="the request the profile sends (method, body, headers): no response at all",
    doc="""pass: the request is GET with no body and no header but Accept, Cache-Control,
    Last-Event-ID and what the browser adds itself (Origin, Cookie, User-Agent...). warn: it needs
    another method, a body or a header (named) that native EventSource cannot send: only a
    fetch-based client (@microsoft/fetch-event-source and the like) can open it. The LLM
    profiles (POST with Authorization) expect this warning.""",
)
def plain_eventsource(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    request = ctx.capture.request
    needs: list[str] = []
    evidence: list[Evidence] = []
    method = request.method.upper()
    if method != "GET":
        needs.append(f"method {method}")
        evidence.append(Evidence(None, f"{method} {request.url}"))
    if request.body is not None:
        needs.append(f"a body ({len(request.body)} bytes)")
    custom = [(k, v) for k, v in request.headers if _not_native(k)]
    if custom:
        word = "header" if len(custom) == 1 else "headers"
        needs.append(f"{word} " + ", ".join(name for name, _ in custom))
        evidence.extend(Evidence(None, f"{k}: {v}") for k, v in redact_headers(custom))
    accept = [v for k, v in request.headers if k.lower() == "accept"]
    if accept and "text/event-stream" not in accept[-1].lower():
        needs.append(f"Accept: {accept[-1]} (EventSource sends text/event-stream)")
    if not needs:
        return passed("GET with no body and no custom header: new EventSource(url) can open it")
    return warning(
        f"needs {'; '.join(needs)}: native EventSource cannot send that; {FETCH_CLIENT}",
        *evidence,
    )
