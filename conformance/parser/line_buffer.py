"""The line being assembled across chunks: bounded memory whatever the line's length.

A line still incomplete at the end of a chunk is kept in a bytearray (amortised linear appends,
one byte of memory per byte even when it arrives a byte at a time), and at most ``limit`` bytes
of it are ever kept: the rest is counted, not stored.
"""

from __future__ import annotations


class LineBuffer:
    """The unterminated line so far: ``kept`` (at most ``limit`` bytes), ``total`` (its whole
    length, kept or not) and ``overflow`` (whether it outgrew the limit)."""

    __slots__ = ("kept", "limit", "overflow", "total")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.total = 0
        self.overflow = False

    def append(self, piece: bytes) -> bool:
        """Add a piece of the line; True when this piece is the one that outgrew the limit (the
        caller reports it once). Never raises."""
        self.total += len(piece)
        if self.overflow:
            return False
        room = self.limit - len(self.kept)
        if len(piece) > room:
            if room > 0:
                self.kept += piece[:room]
            self.overflow = True
            return True
        self.kept += piece
        return False

    def take(self) -> tuple[bytes, int]:
        """The assembled line (at most ``limit`` bytes, never ending inside a UTF-8 sequence
        the cut split) and its full length; the buffer is then empty. Never raises."""
        line = bytes(self.kept)
        full = self.total
        if self.overflow:
            line = trim_utf8_tail(line)
        self.clear()
        return line, full

    def clear(self) -> None:
        """Forget the line. Never raises."""
        self.kept = bytearray()
        self.total = 0
        self.overflow = False


def trim_utf8_tail(raw: bytes) -> bytes:
    """Drop a multi-byte sequence that a cut left incomplete (it was complete in the stream).
    Never raises."""
    for back in range(1, min(4, len(raw)) + 1):
        byte = raw[-back]
        if byte < 0x80:
            return raw
        if byte >= 0xC0:
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return raw[:-back] if need > back else raw
    return raw
