"""CORS: what a page on another origin needs from the answer before its EventSource gets a byte.

``new EventSource(url)`` from another origin is a CORS request (mode "cors"; credentials mode
"include" with ``withCredentials``, else "same-origin"), and Fetch's CORS check runs on every
response that is cross-origin for the page, redirects included: ``Access-Control-Allow-Origin``
must be ``*`` or exactly the page's origin; with credentials it must be exactly the origin and
``Access-Control-Allow-Credentials`` exactly ``true``. A failed check is a network error: the
page's ``onerror`` fires and no event is dispatched, whatever the stream says.

The page's origin is what ``--origin`` gave (the suite sent it as ``Origin``); without it the page
is assumed to be on the endpoint's origin, which needs no CORS.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.capture.model import Capture
from conformance.checks.context import CheckContext, header_evidence
from conformance.checks.registry import check
from conformance.checks.spec_links import FETCH_CORS_CHECK
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped
from conformance.origins import origin_of, redirect_tainted

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"


@dataclass(frozen=True, slots=True)
class Hop:
    """One response the browser's CORS check may run on: a redirect or the final answer."""

    label: str  # "redirect 1 (302 from URL)" or "the response"
    url: str  # the URL that answered
    allow_origin: str | None
    allow_credentials: str | None


def hops(cap: Capture) -> list[Hop]:
    """Every response of the capture in order: each redirect hop, then the final one.
    Never raises."""
    out = [
        Hop(
            f"redirect {i} ({r.status} from {r.url})",
            r.url,
            r.header(ALLOW_ORIGIN),
            r.header(ALLOW_CREDENTIALS),
        )
        for i, r in enumerate(cap.redirects, 1)
    ]
    allow = cap.header_all(ALLOW_ORIGIN)
    creds = cap.header_all(ALLOW_CREDENTIALS)
    out.append(
        Hop(
            "the response",
            cap.url or cap.request.url,
            ", ".join(allow) if allow else None,
            ", ".join(creds) if creds else None,
        )
    )
    return out


def cors_failure(hop: Hop, origin: str, credentials: bool) -> str | None:
    """Fetch's CORS check on one response: why it fails, or None when it passes. Never raises.

    Values are compared byte for byte (no case folding; several headers combine into a list,
    which never matches)."""
    value = hop.allow_origin
    if value is None:
        return f"no {ALLOW_ORIGIN}"
    if value == "*" and not credentials:
        return None
    if value == "*":
        return f"{ALLOW_ORIGIN}: * is refused with credentials (withCredentials needs {origin})"
    if value != origin:
        return f"{ALLOW_ORIGIN}: {value} is not the Origin sent ({origin})"
    if not credentials:
        return None
    allowed = hop.allow_credentials
    if allowed != "true":
        shown = (
            f"{ALLOW_CREDENTIALS}: {allowed}" if allowed is not None else f"no {ALLOW_CREDENTIALS}"
        )
        return f"{shown} (withCredentials needs exactly 'true')"
    return None


@check(
    "cors.origin",
    "A page on the given origin may read the stream (CORS)",
    FETCH_CORS_CHECK,
    Severity.MUST,
    reads="the main connection's response headers and those of every redirect hop, and the request's Origin",
    doc="""skip: no --origin (a same-origin page needs no CORS), or no response. pass: the origin
    is the endpoint's own, or every response that is cross-origin for the page (redirects
    included) allows it: Access-Control-Allow-Origin `*` or the exact origin; with
    --with-credentials exactly the origin and Access-Control-Allow-Credentials `true`. After a
    redirect to another origin from a URL not on the page's origin (Fetch's redirect-tainted
    origin) the browser sends `Origin: null`, and later answers must allow `null` (or `*`).
    fail: the first response that does not (the browser turns it into a network error: onerror,
    no event).""",
)
def origin(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    cap = ctx.capture
    page = cap.request.origin
    if page is None:
        return skipped("same-origin page: no CORS needed (give --origin to judge another origin)")
    if cap.status is None:
        return skipped(f"no response ({cap.end_reason}); http.status reports it")
    credentials = ctx.profile.with_credentials
    mode = "with credentials" if credentials else "without credentials"
    cross = False  # once a response is cross-origin for the page, every later one is checked
    checked = 0
    every = hops(cap)
    urls = [hop.url for hop in every]
    for k, hop in enumerate(every):
        cross = cross or origin_of(hop.url) != page
        if not cross:
            continue
        checked += 1
        tainted = redirect_tainted(urls[: k + 1], page)
        sent = "null" if tainted else page
        why = cors_failure(hop, sent, credentials)
        if why is not None:
            evidence = [header_evidence(ALLOW_ORIGIN.lower(), hop.allow_origin)]
            if credentials and hop.allow_origin == sent:
                evidence.append(header_evidence(ALLOW_CREDENTIALS.lower(), hop.allow_credentials))
            evidence.append(Evidence(None, f"Origin: {sent} ({mode})"))
            if tainted:
                why += (
                    f" (after the redirect to another origin the browser sends Origin: null, a"
                    f" redirect-tainted origin: the answer must allow null{'' if credentials else ' or *'})"
                )
            return problem(
                f"{hop.label}: {why}: a page on {page} gets a network error (onerror, no event)",
                *evidence,
            )
    if checked == 0:
        return passed(f"{page} is the endpoint's own origin: no CORS needed")
    allowed = every[-1].allow_origin
    return passed(
        f"{page} may read it {mode} (Access-Control-Allow-Origin: {allowed}"
        + (f", on {checked} responses" if checked > 1 else "")
        + ")"
    )
