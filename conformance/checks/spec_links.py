"""Links to the rules the core checks rest on: sections of the WHATWG HTML "Server-sent events",
and the HTTP caching RFC for what intermediaries do."""

SPEC = "https://html.spec.whatwg.org/multipage/server-sent-events.html"
SPEC_EVENTSOURCE = f"{SPEC}#the-eventsource-interface"
SPEC_PROCESSING = f"{SPEC}#sse-processing-model"
SPEC_PARSING = f"{SPEC}#parsing-an-event-stream"
SPEC_INTERPRETING = f"{SPEC}#event-stream-interpretation"
SPEC_AUTHORING = f"{SPEC}#authoring-notes"
SPEC_LAST_EVENT_ID = f"{SPEC}#the-last-event-id-header"
SPEC_CONSTRUCTOR = f"{SPEC}#dom-eventsource"  # the request: cache mode "no-store"
# RFC 9111 (HTTP Caching), the no-cache response directive: what shared caches and proxies obey.
SPEC_RFC9111_NO_CACHE = "https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.4"
SPEC_REESTABLISH = f"{SPEC}#reestablish-the-connection"

FETCH_CORS_CHECK = "https://fetch.spec.whatwg.org/#cors-check"  # Access-Control-Allow-Origin rules
