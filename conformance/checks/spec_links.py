"""Links to the rules the core checks rest on: sections of the WHATWG HTML "Server-sent events"."""

SPEC = "https://html.spec.whatwg.org/multipage/server-sent-events.html"
SPEC_EVENTSOURCE = f"{SPEC}#the-eventsource-interface"
SPEC_PROCESSING = f"{SPEC}#sse-processing-model"
SPEC_PARSING = f"{SPEC}#parsing-an-event-stream"
SPEC_INTERPRETING = f"{SPEC}#event-stream-interpretation"
SPEC_AUTHORING = f"{SPEC}#authoring-notes"
SPEC_LAST_EVENT_ID = f"{SPEC}#the-last-event-id-header"
SPEC_CONSTRUCTOR = f"{SPEC}#dom-eventsource"  # what EventSource sends: GET, Accept, no body

FETCH_CORS_CHECK = "https://fetch.spec.whatwg.org/#cors-check"  # Access-Control-Allow-Origin rules
