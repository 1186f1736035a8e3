"""What a report may show of HTTP headers: credentials never leave the run.

Reports become CI artifacts, so every renderer (text, JSON, JUnit, HTML) shows request headers
(the profile's) and response headers (the capture's) only through :func:`redact_headers`: a value
whose header name looks like a credential (``Authorization``, ``Cookie``, ``Set-Cookie``,
``X-Api-Key``...) is replaced by its length. Redacting twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SECRET_HEADER_WORDS = ("auth", "cookie", "token", "key", "secret", "session", "password")
_PREFIX = "<redacted, "


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_HEADER_WORDS)


def redact_headers(headers: Iterable[Sequence[str]]) -> list[tuple[str, str]]:
    """Headers as shown in a report: values of credential-looking names replaced by their length."""
    out = []
    for name, value in headers:
        if is_secret_header(name) and not value.startswith(_PREFIX):
            value = f"{_PREFIX}{len(value)} chars>"
        out.append((name, value))
    return out
