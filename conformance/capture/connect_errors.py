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
