"""Bounds on a request head's size and time, which uvicorn does not give the reference.

uvicorn's httptools protocol (its default when httptools is installed, as here) accepts a head of
any size and waits for it forever; its h11 protocol bounds the size (``h11_max_incomplete_event_size``,
answered with 400) but not the time; ``timeout_keep_alive`` only runs between requests. So four
clients sending 100 MB of headers grew the server by 470 MB, and connections whose head never
ends were held for as long as the client liked, outside ``--max-streams``. :func:`bounded_protocol`
wraps uvicorn's protocol: a head (up to its blank line) longer than ``max_head_bytes`` gets 431 and
the connection closed (after a short drain); a head not complete ``head_timeout`` seconds after the connection opened
gets the connection closed. Every head of a keep-alive connection is bounded the same way: the
count starts again when the parser has read a whole request (``on_message_complete``), and a later
head's clock starts at its first byte (the idle time before it is uvicorn's ``timeout_keep_alive``).
"""

from __future__ import annotations

import asyncio
from typing import Any

REFUSED_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 29\r\nConnection: close\r\n\r\n"
    b"request head too large (431)\n"
)


LINGER = 1.0  # seconds a refused connection is drained before it is closed


def _base_protocol() -> type[asyncio.Protocol]:
    """The protocol uvicorn's ``http="auto"`` would pick: httptools if installed, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is a dependency of the reference
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


def bounded_protocol(max_head_bytes: int, head_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class with the head bounds above (pass it as ``Config(http=...)``)."""
    base: Any = _base_protocol()

    class BoundedHead(base):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._head_bytes = 0
            self._head_tail = b""
            self._head_done = False
            self._head_refused = False
            self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
                head_timeout, self._head_too_slow
            )

        def data_received(self, data: bytes) -> None:
            if self._head_refused:
                return  # discarded until the linger ends: the client reads its 431, not an RST
            if not self._head_done:
                if self._head_timer is None:  # the first byte of a later head on this connection
                    self._head_timer = self.loop.call_later(head_timeout, self._head_too_slow)
                window = self._head_tail + data
                end = window.find(b"\r\n\r\n")
                if end < 0:
                    self._head_bytes += len(data)
                    self._head_tail = window[-3:]
                else:
                    self._head_bytes += end + 4 - len(self._head_tail)
                    self._head_done = True
                    self._stop_head_timer()
                if self._head_bytes > max_head_bytes:
                    self._refuse_head()
                    return
            super().data_received(data)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            # a whole request read: what comes next on this connection is a new head, bounded
            # alike (bytes of it already in this read are not counted: at most one read)
            self._stop_head_timer()
            self._head_bytes = 0
            self._head_tail = b""
            self._head_done = False

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            super().connection_lost(exc)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _refuse_head(self) -> None:
            self._head_done = self._head_refused = True
            self._stop_head_timer()
            if not self.transport.is_closing():
                self.transport.write(REFUSED_431)
                if self.transport.can_write_eof():
                    self.transport.write_eof()
                # closing at once with unread bytes would send an RST that can destroy the 431
                # before the client reads it: linger (reading and dropping), then close
                self.loop.call_later(LINGER, self.transport.close)

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if not self._head_done and not self.transport.is_closing():
                self.transport.close()

    return BoundedHead
