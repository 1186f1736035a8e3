"""Origins as Fetch serializes them, and the redirect rule that turns a request's origin into
``null``: shared by the transport (which sends ``Origin``) and ``cors.origin`` (which judges the
answers), so both follow one reading of the spec."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """The serialized origin of ``url`` (``scheme://host[:port]``, default port dropped).
    Never raises (a URL that does not parse gives ``"null"``, an opaque origin)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "null"
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return "null"
    if ":" in host:
        host = f"[{host}]"
    shown = "" if port is None or port == _DEFAULT_PORTS.get(scheme) else f":{port}"
    return f"{scheme}://{host}{shown}"


def redirect_tainted(urls: Sequence[str], page: str) -> bool:
    """Fetch's "redirect-tainted origin" for a request whose URL list is ``urls``: a hop to
    another origin from a URL that is not on the page's origin. The browser then serializes the
    request's origin as ``null``: it sends ``Origin: null`` and the CORS check wants
    ``Access-Control-Allow-Origin: null`` (or ``*``). Never raises."""
    return any(
        origin_of(url) != origin_of(last) and origin_of(last) != page
        for last, url in itertools.pairwise(urls)
    )
