"""The sans-IO half of a capture: timed chunks in, a filled :class:`Capture` out.

The live HTTP capture and :func:`replay` share :class:`Recorder`, so checks see the same thing
whether the bytes came from a socket or from a test.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.capture.decoding import ContentDecoder, DecodeError
from conformance.capture.lean import LEAN_MAIN, LeanLog
from conformance.capture.model import (
    DEFAULT_LIMITS,
    Capture,
    CaptureRequest,
    Chunk,
    EndReason,
    IsLast,
    Limits,
)
from conformance.parser import Parser


def _fill_from_parser(cap: Capture, parser: Parser) -> None:
    cap.observations = list(parser.observations)
    cap.observations_dropped = parser.observations_dropped
    cap.line_endings = dict(parser.line_endings)
    cap.first_line_ending = dict(parser.first_line_ending)
    cap.comments = parser.comments
    cap.retry = parser.retry
    cap.last_event_id = parser.last_event_id
    cap.longest_line = parser.longest_line


class Recorder:
    """The sans-IO half of a capture: wire chunks in (with their times), events and stats out.

    The live capture and :func:`replay` share it, so checks see the same thing whether the bytes
    came from a socket or from a test. It undoes ``Content-Encoding`` as Chromium does
    (:class:`~conformance.capture.decoding.ContentDecoder`), so compressed bytes replay too, and
    bounds the *decoded* body by ``max_bytes``. When it stops the capture (the decoded size
    limit, a body that cannot be decoded) :attr:`stop` says why; the transport then stops reading.
    """

    def __init__(self, cap: Capture, limits: Limits, is_last: IsLast | None = None) -> None:
        self.cap = cap
        self.limits = limits
        self.is_last = is_last
        self.parser = Parser(max_line_bytes=limits.max_line_bytes)
        main = LEAN_MAIN.get()  # an extra client of a run: keep what the main capture does not
        self.lean = None if main is None else LeanLog(main, limits.max_line_bytes)
        if self.lean is not None:
            cap.events = self.lean
        self.offset = 0  # decoded bytes so far
        self.stop: EndReason | None = None
        self._decoder: ContentDecoder | None = None

    def _decoder_for(self) -> ContentDecoder:
        if self._decoder is None:
            # Built at the first body byte: the headers (and so the coding) are known by then.
            self._decoder = ContentDecoder(self.cap.content_encoding)
            self.cap.unknown_codings = list(self._decoder.unsupported)
        return self._decoder

    def add(self, t: float, data: bytes, raw_total: int | None = None) -> None:
        """Record one read of wire bytes at ``t``: decode it, parse it, time the events it
        completes. ``raw_total`` (the transport's own count of wire bytes) overrides the sum.
        Ends the capture (:attr:`stop`, ``cap.end_reason``) at ``max_bytes`` of decoded body or
        at data that cannot be decoded; ignores data after that. Never raises."""
        cap = self.cap
        if self.stop is not None:
            return
        if cap.t_first_byte is None:
            cap.t_first_byte = t
        # Every wire byte counts, whether decoding produced output for it or not.
        cap.raw_bytes = raw_total if raw_total is not None else cap.raw_bytes + len(data)
        try:
            decoder = self._decoder_for()
            for piece in decoder.feed(data):
                self._piece(t, piece)
                if self.offset >= self.limits.max_bytes:
                    message = (
                        f"decompressed size exceeds {self.limits.max_bytes} bytes"
                        if decoder.active
                        else f"{self.offset} bytes read (limit {self.limits.max_bytes})"
                    )
                    self._end(EndReason.MAX_BYTES, message)
                    return  # stop iterating: the decoder does no more work
        except DecodeError as exc:
            self._end(EndReason.DECODE_ERROR, f"cannot decode the body: {exc}")

    def _piece(self, t: float, data: bytes) -> None:
        cap = self.cap
        if self.lean is None:
            cap.chunks.append(Chunk(t, self.offset, data, cap.raw_bytes))
        else:
            self.lean.piece(t, self.offset, data, cap.raw_bytes)
        self.offset += len(data)
        for event in self.parser.feed(data):
            index = len(cap.events)
            cap.events.record(event, t)
            if cap.t_last_event is None and self.is_last is not None and self.is_last(event, index):
                cap.t_last_event = t

    def _end(self, reason: EndReason, message: str) -> None:
        self.stop = reason
        self.cap.end_reason = reason
        self.cap.end_message = message

    def finish(self, t_end: float) -> Capture:
        """End the capture at ``t_end``: close the parser if the server ended the body, copy its
        findings and the decoder's. Never raises."""
        if self.cap.end_reason.by_server:
            self.parser.close()
        _fill_from_parser(self.cap, self.parser)
        if self._decoder is not None:
            self.cap.ignored_after_end = self._decoder.ignored()
        self.cap.t_end = t_end
        return self.cap


def replay(
    chunks: Sequence[tuple[float, bytes]],
    *,
    status: int | None = 200,
    headers: Sequence[tuple[str, str]] = (("content-type", "text/event-stream"),),
    end_reason: EndReason = EndReason.CLOSED,
    end_message: str = "",
    t_end: float | None = None,
    is_last: IsLast | None = None,
    limits: Limits = DEFAULT_LIMITS,
    url: str = "http://replay.invalid/stream",
    http_version: str = "HTTP/1.1",
) -> Capture:
    """A Capture built from timed wire chunks without any I/O (tests, offline judging); a
    ``content-encoding`` header among ``headers`` is undone as in a live capture.
    Raises ValueError when ``limits.max_line_bytes`` is below 1; never for any bytes."""
    cap = Capture(
        request=CaptureRequest(url),
        url=url,
        status=status,
        http_version=http_version,
        headers=list(headers),
        end_reason=end_reason,
        end_message=end_message,
        t_headers=0.0 if status is not None else None,
    )
    cap.content_encoding = cap.header("content-encoding")
    recorder = Recorder(cap, limits, is_last)
    for t, data in chunks:
        recorder.add(t, data)
        if recorder.stop is not None:
            break
    last_t = chunks[-1][0] if chunks else 0.0
    return recorder.finish(t_end if t_end is not None else last_t)
