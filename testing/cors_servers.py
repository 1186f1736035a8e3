"""Known servers for a page on another origin: the CORS answers browsers accept or refuse, and an
endpoint that a native EventSource cannot open (it needs a bearer header).

Each is a :data:`~testing.rawhttp.Handler` serving the known-good stream (:data:`GOOD`) with one
CORS variation. ``APP_ORIGIN`` is the page's origin the tests give with ``--origin``.
"""

from __future__ import annotations

import dataclasses

from testing.rawhttp import Exchange, Handler, routes
from testing.sse_response import DEFAULT_HEADERS, SseResponse, error_page

APP_ORIGIN = "http://app.example"
OTHER_ORIGIN = "https://other.example"
TOKEN = "test-token"

GOOD = SseResponse()


def with_headers(*extra: tuple[str, str], spec: SseResponse = GOOD) -> SseResponse:
    """The good stream with ``extra`` response headers."""
    return dataclasses.replace(spec, headers=(*DEFAULT_HEADERS, *extra))


ALLOW_ANY = with_headers(("Access-Control-Allow-Origin", "*"))
"""``*``: any page may read it, but not with credentials."""

FIXED_OTHER = with_headers(("Access-Control-Allow-Origin", OTHER_ORIGIN))
"""Allows one fixed origin that is not the page's: refused."""

NO_CORS = GOOD
"""No CORS header at all (the reference's own answer): a page elsewhere gets a network error."""


async def echo_origin(ex: Exchange) -> None:
    """Echoes the request's Origin and allows credentials (``Vary: Origin``): what a correct
    credentialed CORS endpoint does; no Origin, no CORS headers."""
    origin = ex.request.header("origin")
    extra: tuple[tuple[str, str], ...] = ()
    if origin is not None:
        extra = (
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Vary", "Origin"),
        )
    await with_headers(*extra)(ex)


ECHO_WITHOUT_CREDENTIALS = with_headers(("Access-Control-Allow-Origin", APP_ORIGIN))
"""Names the page's origin exactly, but says nothing of credentials: fine without them only."""


async def bearer_required(ex: Exchange) -> None:
    """401 unless ``Authorization: Bearer TOKEN``: only a fetch-based client can open it."""
    if ex.request.header("authorization") != f"Bearer {TOKEN}":
        await error_page(401, b'{"error": "unauthorized"}', "application/json")(ex)
        return
    await GOOD(ex)


async def _redirect_without_cors(ex: Exchange) -> None:
    # Connection: close, as each connection serves one request (else the client may reuse it)
    await ex.send_head(
        302, [("Location", "/real"), ("Content-Length", "0"), ("Connection", "close")]
    )


REDIRECT_THEN_ANY: Handler = routes({"/api/stream": _redirect_without_cors, "/real": ALLOW_ANY})
"""A redirect without CORS headers to a stream that allows ``*``: the redirect itself is refused
(Fetch runs the CORS check on every cross-origin response, redirects included)."""


async def _redirect_with_cors(ex: Exchange) -> None:
    await ex.send_head(
        302,
        [
            ("Location", "/real"),
            ("Access-Control-Allow-Origin", "*"),
            ("Content-Length", "0"),
            ("Connection", "close"),
        ],
    )


REDIRECT_BOTH_ANY: Handler = routes({"/api/stream": _redirect_with_cors, "/real": ALLOW_ANY})
"""A redirect that allows ``*`` to a stream that allows ``*``: accepted."""


async def _redirect_to_localhost(ex: Exchange) -> None:
    # 127.0.0.1 -> localhost: another origin, from a URL that is not the page's (app.example), so
    # a browser sends "Origin: null" on the next request (Fetch: redirect-tainted origin)
    port = (ex.request.header("host") or "").rpartition(":")[2]
    await ex.send_head(
        307,
        [
            ("Location", f"http://localhost:{port}/real"),
            ("Access-Control-Allow-Origin", ex.request.header("origin") or "*"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Content-Length", "0"),
            ("Connection", "close"),
        ],
    )


TAINTED_THEN_ECHO: Handler = routes({"/api/stream": _redirect_to_localhost, "/real": echo_origin})
"""A redirect to another origin, then a stream that echoes Origin: the browser sent ``null``, the
answer allows ``null``: accepted (without credentials and with)."""

TAINTED_THEN_PAGE: Handler = routes(
    {"/api/stream": _redirect_to_localhost, "/real": ECHO_WITHOUT_CREDENTIALS}
)
"""A redirect to another origin, then a stream that allows the page's origin by name: the browser
sent ``Origin: null``, so the CORS check fails."""
