"""Test support shared by ``tests/``, ``e2e/`` and ``bench/``: servers and process helpers.

Not part of the installed product (the wheel ships ``conformance`` and ``reference`` only, and a
test keeps them from importing this package): the known-good and known-bad servers exist to prove
the suite, and ``python -m testing.servers NAME`` serves any of them by hand from a checkout.

- ``rawhttp``: the byte-exact asyncio HTTP/1.1 toolkit (``Exchange``, ``sse_server``,
  ``threaded_sse_server``, ``routes``); knows nothing of SSE.
- ``ram_stream``: the ram-monitor texts and their SSE bytes (``encode_event``, the splitters).
- ``sse_response``: ``SseResponse``, the known-good stream with one knob per defect.
- ``known_servers``: bad servers a knob cannot express (shared state, silence, redirects).
- ``library_servers``: other libraries' idioms, byte for byte (brotli, gzip members, one
  connection at a time, a slow broadcast, Node.js's retry-first block, django-eventstream's
  stream-open, duplicate Content-Type).
- ``servers``: the named presets and the ``python -m testing.servers`` command.
- ``support``: free ports, uvicorn in a thread, server processes that are always stopped.
"""
