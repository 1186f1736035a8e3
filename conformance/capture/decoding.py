"""Undo ``Content-Encoding`` the way Chromium does, incrementally and with a bound on the output.

Why not let the HTTP client decode: a browser decodes gzip, deflate, br and zstd, and the suite
must judge exactly the bytes the browser's parser sees; it must also stop a decompression bomb
after ``max_bytes`` of *output* (a client that inflates a whole network read first has already
spent the memory), and say what a browser ignores (the bytes after the first gzip member).

Sans-IO: :meth:`ContentDecoder.feed` takes wire bytes and yields decoded pieces of at most
``piece`` bytes, lazily, so a caller that stops iterating stops the decompression there.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

PIECE = 64 * 1024  # bytes one decoded piece holds (memory per step, whatever the ratio);
# brotli rounds its output buffer up to blocks of about 32 KiB, so its pieces may be that large.
# The codings Chromium decodes (it sends "Accept-Encoding: gzip, deflate, br, zstd").
SUPPORTED = ("gzip", "x-gzip", "deflate", "br", "zstd")
IDENTITY = ("", "identity")


class DecodeError(Exception):
    """The body cannot be decoded (corrupt data); the message is one line for the user."""


class _Codec(Protocol):
    name: str
    ignored: int  # input bytes after the end of the compressed stream

    def feed(self, data: bytes, piece: int) -> Iterator[bytes]: ...


class _Zlib:
    """gzip (first member only, as Chromium) and deflate (zlib-wrapped, or raw as a fallback)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ignored = 0
        self._gzip = name in ("gzip", "x-gzip")
        wbits = zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS
        self._d = zlib.decompressobj(wbits)
        self._started = False  # deflate: whether the zlib header was accepted

    def feed(self, data: bytes, piece: int) -> Iterator[bytes]:
        if self._d.eof:
            self.ignored += len(data)
            return
        buf = data
        while buf:
            try:
                out = self._d.decompress(buf, piece)
            except zlib.error as exc:
                if not self._gzip and not self._started:
                    # Servers that send raw deflate under "deflate": browsers accept it too.
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise DecodeError(f"{self.name} data is corrupt: {exc}") from None
            self._started = True
            buf = self._d.unconsumed_tail
            if out:
                yield out
            if self._d.eof:
                self.ignored += len(self._d.unused_data) + len(buf)
                return
            if not buf and len(out) == piece:
                buf = b""  # output was cut at the piece size: drain what zlib still holds
                while True:
                    more = self._d.decompress(b"", piece)
                    if more:
                        yield more
                    if len(more) < piece:
                        break
                if self._d.eof:
                    self.ignored += len(self._d.unused_data)
                    return


class _Brotli:
    name = "br"

    def __init__(self) -> None:
        try:
            import brotli
        except ImportError:  # a dependency of the package; only a broken install lacks it
            raise DecodeError("cannot decode br: the brotli package is not installed") from None
        self._error = brotli.error
        self._d = brotli.Decompressor()
        self.ignored = 0

    def feed(self, data: bytes, piece: int) -> Iterator[bytes]:
        if self._d.is_finished():
            self.ignored += len(data)
            return
        try:
            # The limit is a soft one (brotli grows its buffer in blocks of ~32 KiB), and output
            # may still be pending when new input would be accepted: drain until none comes.
            out = self._d.process(data, output_buffer_limit=piece)
            while out:
                yield out
                if self._d.is_finished():
                    return
                out = self._d.process(b"", output_buffer_limit=piece)
        except self._error as exc:
            raise DecodeError(f"br data is corrupt: {exc}") from None


class _Zstd:
    name = "zstd"

    def __init__(self) -> None:
        try:
            from backports import zstd
        except ImportError:
            try:
                from compression import zstd  # type: ignore[import-not-found,no-redef]
            except ImportError:
                raise DecodeError(
                    "cannot decode zstd: the backports.zstd package is not installed"
                ) from None
        self._error = zstd.ZstdError
        self._d = zstd.ZstdDecompressor()
        self.ignored = 0

    def feed(self, data: bytes, piece: int) -> Iterator[bytes]:
        if self._d.eof:
            self.ignored += len(data)
            return
        buf = data
        try:
            while True:
                out = self._d.decompress(buf, piece)
                buf = b""
                if out:
                    yield out
                if self._d.eof:
                    self.ignored += len(self._d.unused_data)
                    return
                if self._d.needs_input:
                    return
        except self._error as exc:
            raise DecodeError(f"zstd data is corrupt: {exc}") from None


def parse_codings(header: str | None) -> list[str]:
    """The codings of a Content-Encoding value in the order they were applied (lowercase)."""
    if header is None:
        return []
    return [c.strip().lower() for c in header.split(",") if c.strip().lower() not in IDENTITY]


class ContentDecoder:
    """Wire bytes in, the bytes a browser's parser sees out, never more than ``piece`` at a time.

    ``unsupported`` lists codings Chromium does not know: it then passes the body through as is
    (so does this decoder), and a check says so. Raises :class:`DecodeError` from :meth:`feed`
    for corrupt data.
    """

    def __init__(self, content_encoding: str | None, piece: int = PIECE) -> None:
        self.codings = parse_codings(content_encoding)
        self.piece = piece
        self.unsupported = [c for c in self.codings if c not in SUPPORTED]
        self._chain: list[_Codec] = []
        if not self.unsupported:
            # Applied in order, so undone in reverse.
            for coding in reversed(self.codings):
                self._chain.append(_make(coding))

    @property
    def active(self) -> bool:
        """Whether any decoding happens (false for identity and for unknown codings)."""
        return bool(self._chain)

    def ignored(self) -> list[tuple[str, int]]:
        """Per coding, wire bytes after the end of its compressed stream (not decoded)."""
        return [(c.name, c.ignored) for c in self._chain if c.ignored]

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data``; stop iterating to stop decoding (bounded work)."""
        if not self._chain:
            if data:
                yield data
            return
        yield from self._through(data, 0)

    def _through(self, data: bytes, level: int) -> Iterator[bytes]:
        codec = self._chain[level]
        for out in codec.feed(data, self.piece):
            if level + 1 == len(self._chain):
                yield out
            else:
                yield from self._through(out, level + 1)


def _make(coding: str) -> _Codec:
    if coding == "br":
        return _Brotli()
    if coding == "zstd":
        return _Zstd()
    return _Zlib(coding)
