"""A target that is not an event stream at all: one verdict instead of a table of skips.

A web page (``text/html``) or a 404 makes most checks skip or warn about "framing" that is only
HTML; the table then hides the one thing the user needs to hear. :func:`not_a_stream` says it in
one line, with a hint when the page names its stream (``<link rel="alternate"
type="text/event-stream" href="...">``, which the reference's page carries) or when the URL is a
site's root. Pure over the capture; the front ends decide how to show it.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from conformance.capture.model import Capture

STREAM_LINK = re.compile(rb"<link\b[^>]*\btype=[\"']text/event-stream[\"'][^>]*>", re.IGNORECASE)
HREF = re.compile(rb"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
REFERENCE_STREAM = "/api/stream"


def _media_type(capture: Capture) -> str:
    for name, value in capture.headers:
        if name.lower() == "content-type":
            return value.split(";")[0].strip().lower()
    return ""


def _hint(capture: Capture) -> str:
    body = b"".join(chunk.data for chunk in capture.chunks)[:65536]
    link = STREAM_LINK.search(body)
    if link and (href := HREF.search(link.group(0))):
        return f": did you mean {urljoin(capture.url, href.group(1).decode('latin-1'))}?"
    if urlsplit(capture.url).path in ("", "/"):
        return f": did you mean {urljoin(capture.url, REFERENCE_STREAM)}?"
    return ""


def not_a_stream(capture: Capture) -> str | None:
    """One line when the answer is a web page or a 404, not an event stream; else None.
    Never raises."""
    if capture.status == 404:
        return f"not found (404), not an event stream{_hint(capture)}"
    if capture.status is not None and _media_type(capture) in (
        "text/html",
        "application/xhtml+xml",
    ):
        return f"this is a web page ({_media_type(capture)}), not an event stream{_hint(capture)}"
    return None
