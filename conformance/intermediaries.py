"""Which proxies and CDNs a response passed through, read from its headers alone; and the idle
limits that cut a silent stream behind them.

Why: "it streams on my laptop and dies in production" is nearly always something between the
server and the browser: a buffering proxy, or an idle timeout that cuts a stream silent for a
minute. The response usually says who handled it (``Via``, ``Server``, ``CF-Ray``...), so a
report can say "through nginx" and a heartbeat warning can name the limit that will bite.

Pure functions over ``(name, value)`` header pairs: no I/O, nothing raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Intermediary:
    """One proxy or CDN seen on a response: its name and the header that gave it away."""

    name: str
    header: str  # "Server: nginx/1.22.1", shown as evidence

    def describe(self) -> str:
        """``nginx (Server: nginx/1.22.1)``. Never raises."""
        return f"{self.name} ({self.header})"


@dataclass(frozen=True, slots=True)
class IdleLimit:
    """How long an intermediary lets a response stay silent before it cuts it (its default)."""

    name: str  # as :class:`Intermediary` names it
    seconds: float
    what: str  # the setting, for the reason text
    source: str  # the provider's documentation
    first_byte: float | None = None  # a shorter limit before the first body byte (Heroku)


# The defaults that cut idle streams in production (sources: docs/checks.md, stream.heartbeat).
IDLE_LIMITS: tuple[IdleLimit, ...] = (
    IdleLimit(
        "nginx",
        60.0,
        "proxy_read_timeout 60 s",
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout",
    ),
    IdleLimit(
        "AWS ALB",
        60.0,
        "idle timeout 60 s",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
        "edit-load-balancer-attributes.html#connection-idle-timeout",
    ),
    IdleLimit(
        "Heroku",
        55.0,
        "router: first byte within 30 s, then 55 s rolling window",
        "https://devcenter.heroku.com/articles/request-timeout",
        first_byte=30.0,
    ),
    IdleLimit(
        "Cloudflare",
        100.0,
        "proxy read timeout 100 s (error 524)",
        "https://developers.cloudflare.com/support/troubleshooting/http-status-codes/"
        "cloudflare-5xx-errors/error-524/",
    ),
)

# (header, pattern on its value, name): first match per name wins; order is specific first.
_RULES: tuple[tuple[str, str, str], ...] = (
    ("via", r"\bvegur\b", "Heroku"),
    ("via", r"cloudfront", "CloudFront"),
    ("via", r"\bvarnish\b", "Varnish"),
    ("via", r"\bgoogle\b", "Google Cloud Load Balancing"),
    ("cf-ray", r".", "Cloudflare"),
    ("server", r"^cloudflare", "Cloudflare"),
    ("x-amz-cf-id", r".", "CloudFront"),
    ("x-amz-cf-pop", r".", "CloudFront"),
    ("x-cache", r"cloudfront", "CloudFront"),
    ("server", r"^awselb", "AWS ALB"),
    ("x-served-by", r"^cache-", "Fastly"),
    ("x-fastly-request-id", r".", "Fastly"),
    ("fly-request-id", r".", "Fly.io"),
    ("server", r"^fly/", "Fly.io"),
    ("x-vercel-id", r".", "Vercel"),
    ("server", r"^vercel", "Vercel"),
    ("x-nf-request-id", r".", "Netlify"),
    ("server", r"^netlify", "Netlify"),
    ("x-azure-ref", r".", "Azure Front Door"),
    ("server", r"^(nginx|openresty)", "nginx"),
    ("server", r"^(istio-)?envoy", "Envoy"),
    ("x-envoy-upstream-service-time", r".", "Envoy"),
    ("server", r"^caddy", "Caddy"),
    ("server", r"^google frontend", "Google Frontend"),
    ("x-cache", r".", "a cache"),
    ("via", r".", "a proxy"),
)


def detect(headers: Iterable[tuple[str, str]]) -> list[Intermediary]:
    """The proxies and CDNs the response headers name, most specific first, each once.

    ``Server: nginx`` may be the origin itself: reported all the same, as "nginx", because its
    limits apply either way when it proxies. A bare ``Via`` or ``X-Cache`` with no known name is
    "a proxy" / "a cache" (only when nothing more specific was seen). Never raises.
    """
    pairs = [(k.lower(), v) for k, v in headers]
    found: dict[str, Intermediary] = {}
    for header, pattern, name in _RULES:
        if name in found or (name in ("a proxy", "a cache") and found):
            continue
        for key, value in pairs:
            if key == header and re.search(pattern, value, re.IGNORECASE):
                found[name] = Intermediary(name, f"{_title(key)}: {value}")
                break
    return list(found.values())


def _title(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))


def through(seen: Sequence[Intermediary]) -> str:
    """`` through nginx (Server: nginx/1.22.1)`` for a reason text, or "" when none was seen.
    Never raises."""
    if not seen:
        return ""
    return " through " + ", ".join(i.describe() for i in seen)


def limits_exceeded(silence: float, *, first_byte_wait: float = 0.0) -> list[IdleLimit]:
    """The known idle limits a silence of ``silence`` seconds (and a wait of ``first_byte_wait``
    from the headers to the first body byte) exceeds. Never raises."""
    return [
        limit
        for limit in IDLE_LIMITS
        if silence > limit.seconds
        or (limit.first_byte is not None and first_byte_wait > limit.first_byte)
    ]
