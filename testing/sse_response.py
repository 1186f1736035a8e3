"""The known-good ram-monitor stream as one handler with one knob per defect.

Every known-bad server is "the good one with exactly one thing changed"
(``dataclasses.replace(SseResponse(), ...)``); :func:`serve_stream` writes the blocks with the
framing, timing and splitting the :class:`SseResponse` says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from testing.ram_stream import (
    SAMPLES,
    STARTING,
    Splitter,
    encode_event,
    gzip_whole,
    json_text,
    ram_messages,
    ram_sample,
)
from testing.rawhttp import Exchange

Framing = Literal["chunked", "close", "length"]

DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
)


@dataclass(frozen=True)
class SseResponse:
    """The known-good ram-monitor stream; every field is one knob a defect can turn.

    Defaults mirror the reference: 200, ``text/event-stream``, ``no-cache``, chunked, LF, one
    chunk per event, data JSON-encoded, 22 messages, closed right after the sentinel.
    """

    status: int = 200
    reason: str | None = None
    version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = DEFAULT_HEADERS
    framing: Framing = "chunked"
    gzip: bool = False
    samples: int = SAMPLES
    transform: Callable[[list[str]], list[str]] | None = None  # edits each connection's texts
    inject: tuple[tuple[int, bytes], ...] = ()  # raw bytes written just before message i
    encode: Callable[[int, str], str] = json_text  # message index, text -> the data field
    eol: bytes = b"\n"
    bom: bytes = b""
    event_type: str | None = None
    ids: bool = False
    retry: int | None = None
    comments: bool = False  # a ":keep-alive" comment line before every event
    separator: bytes | None = None  # what ends each event instead of a blank line (e.g. b"\n")
    terminate_last: bool = True
    interval: float = 0.01
    pause_before: Callable[[int], float] | None = None  # message index -> pause (else interval)
    head_delay: float = 0.0  # before the status line
    first_delay: float = 0.0  # after the head, before the first event
    keepalive_every: float = 0.0  # with first_delay: send ": ping" comments this often meanwhile
    splitter: Splitter | None = None
    buffered: bool = False  # produce at the normal pace, but write everything at the end
    after_sentinel: Literal["close", "hang"] = "close"
    end_body: bool = True  # False: close without the last chunk (a truncated chunked body)
    reset_after: int | None = None  # reset the connection (RST) after writing this many messages
    space: bytes = b" "  # after "data:" (b"": "data:x", equally valid)
    infinite: bool = False  # samples forever, no sentinel
    body_override: bytes | None = None  # a fixed body instead of the stream (error pages)

    def texts(self) -> Iterator[str]:
        if self.infinite:
            yield STARTING
            index = 0
            while True:
                yield ram_sample(index % 60)
                index += 1
        texts = ram_messages(self.samples)
        yield from self.transform(texts) if self.transform else texts

    def blocks(self) -> Iterator[bytes]:
        """Each message's bytes, in order (lazily: the infinite stream never ends)."""
        previous: bytes | None = None
        for index, text in enumerate(self.texts()):
            data = self.encode(index, text)
            block = encode_event(
                data,
                eol=self.eol,
                event=self.event_type,
                event_id=str(index + 1) if self.ids else None,
                retry=self.retry if index == 0 else None,
                comment="keep-alive" if self.comments else None,
                terminate=self.separator is None,
                space=self.space,
            )
            if self.separator is not None:
                block += self.separator
            for at, raw in self.inject:
                if at == index:
                    block = raw + block
            if index == 0 and self.bom:
                block = self.bom + block
            if previous is not None:
                yield previous
            previous = block
        if previous is not None:
            if self.separator is not None and self.terminate_last:
                previous += self.eol  # the one blank line that finally dispatches the merge
            if not self.terminate_last and previous.endswith(self.eol + self.eol):
                previous = previous[: -len(self.eol)]
            yield previous

    def head(self, body_length: int | None = None) -> list[tuple[str, str]]:
        headers = list(self.headers)
        if self.gzip:
            headers.append(("Content-Encoding", "gzip"))
        if self.status in (204, 304):
            pass  # no body, so no framing headers (RFC 9110 §8.6)
        elif self.framing == "chunked":
            headers.append(("Transfer-Encoding", "chunked"))
        elif self.framing == "length":
            assert body_length is not None
            headers.append(("Content-Length", str(body_length)))
        return headers

    async def __call__(self, ex: Exchange) -> None:
        await serve_stream(self, ex, self.blocks())


async def serve_stream(spec: SseResponse, ex: Exchange, blocks: Iterator[bytes]) -> None:
    """Write ``blocks`` as ``spec`` says (framing, timing, splitting, what happens after the end)."""
    await ex.pause(spec.head_delay)
    if spec.body_override is not None:
        body = spec.body_override
        await ex.send_head(
            spec.status,
            spec.head(len(body)),
            reason=spec.reason,
            version=spec.version,
        )
        await ex.send_body(body)
        await ex.end_body()
        return
    if spec.framing == "length":
        # A server that collects the whole body to learn its length: the head goes out last.
        collected = bytearray()
        for index, block in enumerate(blocks):
            if index:
                await ex.pause(spec.interval)
            collected += block
        body = gzip_whole(bytes(collected)) if spec.gzip else bytes(collected)
        await ex.send_head(
            spec.status, spec.head(len(body)), reason=spec.reason, version=spec.version
        )
        await ex.send(body)
        return
    await ex.send_head(spec.status, spec.head(), reason=spec.reason, version=spec.version)
    waited = 0.0
    while waited < spec.first_delay:
        step = min(spec.keepalive_every or spec.first_delay, spec.first_delay - waited)
        await ex.pause(step)
        waited += step
        if spec.keepalive_every and waited < spec.first_delay:
            await ex.send_body(b": ping" + spec.eol + spec.eol)
    pending = bytearray()
    for index, block in enumerate(blocks):
        if index:
            await ex.pause(spec.pause_before(index) if spec.pause_before else spec.interval)
        if spec.buffered:
            pending += block
            continue
        for piece in spec.splitter(block) if spec.splitter else [block]:
            await ex.send_body(piece)
        if spec.reset_after is not None and index + 1 >= spec.reset_after:
            ex.abort()
            return
    if pending:
        await ex.send_body(bytes(pending))
    if spec.after_sentinel == "hang":
        await ex.wait_gone()
    if spec.end_body:
        await ex.end_body()


def error_page(status: int, body: bytes = b"", content_type: str = "text/plain") -> SseResponse:
    headers = (("Content-Type", content_type),) if body else ()
    return SseResponse(status=status, headers=headers, framing="length", body_override=body)
