"""One line naming the cause when no HTTP exchange happened (refused, TLS to plain HTTP, DNS).

httpx says "All connection attempts failed" or "[SSL: WRONG_VERSION_NUMBER] wrong version
number (_ssl.c:1006)"; a user wants to know what to do. The URL itself is not repeated here: the
front ends already say "cannot reach URL: ..." once.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

# OpenSSL's words when the other side answered a TLS ClientHello with plain HTTP.
PLAIN_HTTP_SIGNS = ("WRONG_VERSION_NUMBER", "record layer failure", "packet length too long")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every cause/context below it (exception groups: their first member)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__
    return seen


def host_port(url: str) -> str:
    """``HOST:PORT`` of a URL (the scheme's default port when none is written). Never raises."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url
    host = parts.hostname or ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def explain(url: str, exc: BaseException) -> str:
    """The cause of a failed connection to ``url``, in words that say what to try. Never raises."""
    chain = _chain(exc)
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    where = host_port(url)
    if url.startswith("https://") and (
        any(sign in text for sign in PLAIN_HTTP_SIGNS)
        or any(isinstance(e, ssl.SSLError) and "version" in str(e).lower() for e in chain)
    ):
        plain = "http://" + url.removeprefix("https://")
        return f"TLS handshake failed: this port speaks plain HTTP: try {plain}"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or (
        "All connection attempts failed" in text or "Connection refused" in text
    ):
        return f"connection refused: is the server running on {where}?"
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        cert = next(e for e in chain if isinstance(e, ssl.SSLCertVerificationError))
        why = cert.verify_message or cert.reason or str(cert)
        return f"TLS certificate verify failed: {why} (use --cacert FILE or --insecure)"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS certificate verify failed: {text} (use --cacert FILE or --insecure)"
    if tls := next((e for e in chain if isinstance(e, ssl.SSLError)), None):
        return f"TLS handshake failed: {tls.reason or tls}"
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or ("getaddrinfo" in text or "Temporary failure in name resolution" in text)
    ):
        return f"cannot resolve the host name of {where}"
    leaf = chain[-1]
    return f"cannot connect to {where}: {type(leaf).__name__}: {leaf}"


FETCH_MAX_REDIRECTS = 20  # Fetch, "HTTP-redirect fetch": a 21st redirect is a network error


def redirect_loop(urls: list[str]) -> str:
    """One line for a run that followed more than 20 redirects (``urls``: each request's URL, then
    the last Location): the loop's hops when a URL repeats. Never raises."""
    seen: dict[str, int] = {}
    for i, url in enumerate(urls):
        if url in seen:
            hops = " -> ".join(urls[seen[url] : i + 1])
            return (
                f"redirect loop: {hops} (more than {FETCH_MAX_REDIRECTS} redirects: "
                "EventSource fails with a network error)"
            )
        seen[url] = i
    return (
        f"more than {FETCH_MAX_REDIRECTS} redirects ({urls[0]} -> ... -> {urls[-1]}): "
        "EventSource fails with a network error"
    )


def redirect_failure(source: str, target: str, exc: BaseException, cause: str | None = None) -> str:
    """One line for a redirect from ``source`` that could not be followed to ``target``: a
    scheme EventSource does not fetch, or a place that cannot be reached. Never raises."""
    scheme = urlsplit(target).scheme.lower() if "://" in target or ":" in target else ""
    if scheme not in ("http", "https"):
        return (
            f"redirect from {source} to {target}: refused "
            f"(scheme {scheme or '(none)'} is not fetched by EventSource)"
        )
    cause = explain(target, exc) if cause is None else cause
    if cause.startswith("connection refused"):
        cause = "connection refused"
    return f"redirect from {source} to {target}: unreachable ({cause})"


def unreachable_message(url: str, end_message: str, redirected: bool) -> str:
    """The front ends' one line when no stream was reached: a failed redirect names its hop
    itself ("redirect from A to B: ..."), anything else is "cannot reach URL: cause". Never
    raises."""
    return end_message if redirected and end_message else f"cannot reach {url}: {end_message}"
