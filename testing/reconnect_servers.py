"""Known-good and known-bad servers for the reconnect.* checks, on testing.servers' toolkit.

:class:`ResumableStream` is the ram-monitor run (22 JSON strings) with ids and an answer to
``Last-Event-ID``; each field is one knob a defect can turn, so every bad server is the good one
with exactly one thing changed. The demo's restart loop needs no class of its own: it is the
toolkit's default :class:`~testing.servers.SseResponse` (no ids, every request a new run).

    python -m testing.reconnect_servers NAME [--interval S]   # serve one by hand (--list)
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from testing.ram_stream import SAMPLES, encode_event, json_text, ram_messages
from testing.rawhttp import Exchange, Handler
from testing.servers import serve_preset
from testing.sse_response import DEFAULT_HEADERS, SseResponse

Resume = Literal["honour", "ignore", "inclusive", "skip-one"]
AfterEnd = Literal["204", "empty", "restart"]


def integer_id(index: int) -> str:
    """The reference's ids: the message's index."""
    return str(index)


def opaque_id(index: int) -> str:
    """An event store's ids: stable per message, but neither numbers nor in any sortable order."""
    return "evt-" + hashlib.sha1(b"%d" % index).hexdigest()[:10]


@dataclass(frozen=True)
class ResumableStream:
    """The ram-monitor run with ids that honours ``Last-Event-ID`` (the reference's contract).

    ``resume``: what a request with a known id gets: ``honour`` the events after it, ``ignore``
    the whole run again, ``inclusive`` from that id itself (one duplicate), ``skip-one`` from the
    event after the next (one lost). ``after_end``: what the last event's id gets. An unknown id
    gets 400. ``resume_status``: any request with a non-empty ``Last-Event-ID`` gets this error.
    """

    samples: int = SAMPLES
    interval: float = 0.01
    id_of: Callable[[int], str] = integer_id
    resume: Resume = "honour"
    after_end: AfterEnd = "204"
    resume_status: int | None = None
    retry: int | None = None  # a retry line in the first event of every response
    retry_on_resume: int | None = None  # a retry-only block first thing on a resumed response

    def _start(self, last_id: str | None, ids: list[str]) -> int | Literal["204", "empty", "400"]:
        if not last_id or self.resume == "ignore":
            return 0
        if last_id == ids[-1]:
            return 0 if self.after_end == "restart" else self.after_end
        if last_id not in ids:
            return "400"
        at = ids.index(last_id)
        return {"honour": at + 1, "inclusive": at, "skip-one": at + 2}[self.resume]

    async def __call__(self, ex: Exchange) -> None:
        texts = ram_messages(self.samples)
        ids = [self.id_of(i) for i in range(len(texts))]
        last_id = ex.request.header("last-event-id")
        if last_id and self.resume_status is not None:
            body = b"Internal Server Error"
            await ex.send_head(
                self.resume_status,
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            await ex.send(body)
            return
        start = self._start(last_id, ids)
        if start == "204":
            await ex.send_head(204, [])
            return
        if start == "400":
            body = b'{"error": "invalid_last_event_id"}'
            head = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            await ex.send_head(400, head)
            await ex.send(body)
            return
        await ex.send_head(200, [*DEFAULT_HEADERS, ("Transfer-Encoding", "chunked")])
        if start == "empty":
            await ex.end_body()
            return
        if start and self.retry_on_resume is not None:
            await ex.send_body(b"retry: %d\n\n" % self.retry_on_resume)
        for n, index in enumerate(range(start, len(texts))):
            if n:
                await ex.pause(self.interval)
            block = encode_event(
                json_text(index, texts[index]),
                event_id=ids[index],
                retry=self.retry if n == 0 else None,
            )
            await ex.send_body(block)
        await ex.end_body()


GOOD_RESUME = ResumableStream()
_r = dataclasses.replace

# Known-bad: each fails exactly its check (tests/conformance/test_reconnect.py).
IGNORES_LAST_EVENT_ID = _r(GOOD_RESUME, resume="ignore")
RESUMES_AT_LAST_ID = _r(GOOD_RESUME, resume="inclusive")
RESUMES_ONE_TOO_FAR = _r(GOOD_RESUME, resume="skip-one")
ERROR_ON_LAST_EVENT_ID = _r(GOOD_RESUME, resume_status=500)
RETRY_ZERO = _r(GOOD_RESUME, retry=0)
DEMO_RESTART_LOOP = SseResponse()  # no ids: every request, a reconnect too, is a new run

# Known-good.
OPAQUE_IDS = _r(GOOD_RESUME, id_of=opaque_id)
RETRY_FIRST_ON_RESUME = _r(GOOD_RESUME, retry=2000, retry_on_resume=1500)
EMPTY_AFTER_END = _r(GOOD_RESUME, after_end="empty")


def presets(interval: float) -> dict[str, Callable[[], Handler]]:
    """Named servers for trying the reconnect checks by hand."""
    table: dict[str, ResumableStream | SseResponse] = {
        "resumable": GOOD_RESUME,
        "opaque-ids": OPAQUE_IDS,
        "retry-first-on-resume": RETRY_FIRST_ON_RESUME,
        "empty-after-end": EMPTY_AFTER_END,
        "ignores-last-event-id": IGNORES_LAST_EVENT_ID,
        "resumes-at-last-id": RESUMES_AT_LAST_ID,
        "resumes-one-too-far": RESUMES_ONE_TOO_FAR,
        "500-on-last-event-id": ERROR_ON_LAST_EVENT_ID,
        "retry-zero": RETRY_ZERO,
        "restart-loop": DEMO_RESTART_LOOP,
    }
    return {name: _paced(server, interval) for name, server in table.items()}


def _paced(server: ResumableStream | SseResponse, interval: float) -> Callable[[], Handler]:
    return lambda: _r(server, interval=interval)


def main(argv: Sequence[str] | None = None) -> int:
    return serve_preset(
        argv,
        prog="python -m testing.reconnect_servers",
        description="Serve one reconnect test server on 127.0.0.1 until Ctrl-C.",
        table_at=presets,
    )


if __name__ == "__main__":
    sys.exit(main())
