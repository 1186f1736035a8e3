"""Turn raw stream bytes into short, unambiguous text for reports.

A check's evidence must show exactly which bytes a server sent (a stray CR, a NUL, a lone
continuation byte), so nothing is decoded or normalised: printable ASCII stays as is and every
other byte gets a visible escape.
"""

from __future__ import annotations

_ESCAPES: dict[int, str] = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\"}

# One entry per byte value, built once: escaping is then a table lookup per byte.
_TABLE: tuple[str, ...] = tuple(
    _ESCAPES.get(b, chr(b) if 0x20 <= b <= 0x7E else f"\\x{b:02x}") for b in range(256)
)


def escape_excerpt(raw: bytes, limit: int = 64) -> str:
    """Escape at most ``limit`` bytes of ``raw``; end with "…" when bytes were left out.
    Never raises."""
    cut = len(raw) > limit
    text = "".join(_TABLE[b] for b in raw[: max(limit, 0)])
    return text + "…" if cut else text


# C0 controls but LF and TAB, DEL, and the C1 controls: a terminal acts on them (ESC starts a
# sequence, BEL rings, CSI U+009B is ESC [ in one character, CR overwrites the line).
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def visible(text: str) -> str:
    """``text`` with every control character a terminal would act on written as ``\\xNN``
    (LF and TAB stay): what a report copies from a server is shown, never executed by a
    terminal that ``cat``s the file. Never raises."""
    return text.translate(_CONTROLS)
