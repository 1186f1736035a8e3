"""The page the suite serves (through Playwright's request interception) at the page's origin, and
its recorder script.

The page is the smallest one that can own an ``EventSource``: the suite never loads anything from
the origin's real server. The script reports ``open`` and ``error`` (with ``readyState``) to the
suite through an exposed binding, and closes the source at its first ``error``: the suite judges
one connection, and a reconnecting source must not run on. Messages of every type are recorded
through the DevTools protocol (``Network.eventSourceMessageReceived``, fired by Blink for every
MessageEvent it dispatches, whatever its type, listened to or not), so the page needs no list of
event names (which the suite would know only after the stream).
"""

from __future__ import annotations

PAGE_PATH = "/__sse_conformance_page__"
BINDING = "sseConformanceRecord"

PAGE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sse-conformance: EventSource</title></head>
<body><p>sse-conformance opens an EventSource here.</p></body></html>
"""

# start(url, withCredentials): one EventSource, every open/error reported with readyState.
START_SCRIPT = f"""([url, withCredentials]) => {{
  const report = window[{BINDING!r}];
  const source = new EventSource(url, {{ withCredentials }});
  window.__sseConformanceSource = source;
  source.addEventListener("open", () => report("open", source.readyState));
  source.addEventListener("error", () => {{
    const state = source.readyState;
    source.close();
    report("error", state);
  }});
}}"""

CLOSE_SCRIPT = "() => { if (window.__sseConformanceSource) window.__sseConformanceSource.close(); }"


def page_url(origin: str) -> str:
    """The page's URL at ``origin`` (``http://app.example`` or ``http://host:port``). Never raises."""
    return origin.rstrip("/") + PAGE_PATH
