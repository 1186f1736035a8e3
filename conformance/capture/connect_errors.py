"""One line naming the cause when no HTTP exchange happened (refused, TLS to plain HTTP, DNS).

httpx says "All connection attempts failed" or "[SSL: WRONG_VERSION_NUMBER] wrong version
number (_ssl.c:1006)"; a user wants to know what to do. The URL itself is not repeated here: the
front ends already say "cannot reach URL: ..." once.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from conformance.capture.tls_probe import HelloAnswer
from conformance.evidence import escape_excerpt

# OpenSSL's words when the other side answered a TLS ClientHello with bytes that are not a TLS
# record: plain HTTP, but also an SSH banner or any noise (tls_probe reads which).
NOT_TLS_SIGNS = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "record layer failure",
    "packet length too long",
    "unknown protocol",
)
# OpenSSL's words when the peer closed the connection in the middle of the handshake.
EOF_SIGNS = ("UNEXPECTED_EOF_WHILE_READING", "EOF occurred in violation of protocol")
EXCERPT = 32  # bytes of a peer's answer quoted at most
# An HTTP/0.9-style error page (no status line): what Python's http.server answers a ClientHello.
HTML_STARTS = (b"<!doctype html", b"<html")


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


def _text(chain: list[BaseException]) -> str:
    return " ".join(f"{type(e).__name__}: {e}" for e in chain)


def not_tls_answer(url: str, exc: BaseException) -> bool:
    """OpenSSL could not read the answer to the ClientHello of an https:// ``url`` as TLS: only
    the answer itself (:func:`~conformance.capture.tls_probe.answer_to_hello`) tells plain HTTP
    from anything else. Never raises."""
    text = _text(_chain(exc))
    return url.startswith("https://") and any(sign in text for sign in NOT_TLS_SIGNS)


def not_tls_cause(url: str, exc: BaseException, answer: HelloAnswer | None) -> str:
    """What answered the ClientHello, from the probe's ``answer``: plain HTTP only when the peer
    answered with HTTP; None (the probe could not tell) gives OpenSSL's reason and the hint,
    hedged. Never raises."""
    plain = "http://" + url.removeprefix("https://")
    tls = next((e for e in _chain(exc) if isinstance(e, ssl.SSLError)), None)
    reason = (tls.reason if tls is not None else None) or next(
        (sign for sign in NOT_TLS_SIGNS if sign in _text(_chain(exc))), "not TLS"
    )
    if answer is None:
        return (
            f"TLS handshake failed: the answer to the TLS ClientHello is not TLS ({reason}): "
            f"if this port speaks plain HTTP, try {plain}"
        )
    data = answer.data
    if data.startswith(b"HTTP/") or data.lstrip().lower().startswith(HTML_STARTS):
        return f"TLS handshake failed: this port speaks plain HTTP: try {plain}"
    if data.startswith(b"SSH-"):
        banner = data.split(b"\r", 1)[0].split(b"\n", 1)[0]
        return f"TLS handshake failed: an SSH server answered: {escape_excerpt(banner, EXCERPT)}"
    if not data:
        return "TLS handshake failed: the peer closed the connection during the TLS handshake"
    if answer.looks_like_tls:  # TLS this time: what OpenSSL said is the cause
        return f"TLS handshake failed: {reason}"
    size = f"at least {len(data)}" if answer.truncated else f"{len(data)}"
    return (
        f"TLS handshake failed: the peer answered the TLS ClientHello with {size} bytes that "
        f"are not TLS: {escape_excerpt(data, EXCERPT)}"
    )


def explain(url: str, exc: BaseException, answer: HelloAnswer | None = None) -> str:
    """The cause of a failed connection to ``url``, in words that say what to try; ``answer``:
    what a probe read back when :func:`not_tls_answer` (None: no probe). Never raises."""
    chain = _chain(exc)
    text = _text(chain)
    where = host_port(url)
    https = url.startswith("https://")
    if not_tls_answer(url, exc):
        return not_tls_cause(url, exc, answer)
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or (
        "All connection attempts failed" in text or "Connection refused" in text
    ):
        return f"connection refused: is the server running on {where}?"
    if https and any(isinstance(e, ConnectionResetError) for e in chain):
        return "TLS handshake failed: the peer reset the connection during the TLS handshake"
    if https and (
        any(isinstance(e, ssl.SSLEOFError) for e in chain) or any(s in text for s in EOF_SIGNS)
    ):
        return "TLS handshake failed: the peer closed the connection during the TLS handshake"
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
