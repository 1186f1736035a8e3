"""The MIME type a browser reads from a response's ``Content-Type`` headers.

Why not the first header: with two ``Content-Type`` headers (or one with a comma-separated list),
Fetch's "extract a MIME type" takes the *last* parsable one, and Chromium does the same; a suite
that judged the first would pass a stream Chromium refuses and fail one it accepts. Implemented
after WHATWG Fetch ("extract a MIME type", "getting, decoding, and splitting") and WHATWG MIME
Sniffing ("parse a MIME type").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

SPEC_EXTRACT = "https://fetch.spec.whatwg.org/#concept-header-extract-mime-type"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HTTP_WS = " \t\r\n"
_QUOTED_OK = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


@dataclass(frozen=True)
class MimeType:
    essence: str  # "type/subtype", lowercase
    parameters: dict[str, str] = field(default_factory=dict)  # names lowercase, in order

    @property
    def charset(self) -> str | None:
        return self.parameters.get("charset")


def split_values(values: Sequence[str]) -> list[str]:
    """Fetch's "getting, decoding, and splitting": the values joined, then split at commas that
    are not inside a quoted string, each trimmed of HTTP whitespace."""
    joined = ", ".join(values)
    out: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in joined:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == ",":
            out.append("".join(current).strip(" \t"))
            current = []
        else:
            current.append(char)
    out.append("".join(current).strip(" \t"))
    return out


def parse_mime_type(text: str) -> MimeType | None:
    """WHATWG MIME Sniffing's "parse a MIME type"; None for failure."""
    s = text.strip(_HTTP_WS)
    kind, slash, rest = s.partition("/")
    if not slash or not _TOKEN.fullmatch(kind):
        return None
    semi = rest.find(";")
    subtype = (rest if semi < 0 else rest[:semi]).rstrip(_HTTP_WS)
    if not _TOKEN.fullmatch(subtype):
        return None
    parameters: dict[str, str] = {}
    p = "" if semi < 0 else rest[semi:]  # from the first ";"
    pos = 0
    while pos < len(p):
        pos += 1  # past the ";"
        while pos < len(p) and p[pos] in _HTTP_WS:
            pos += 1
        start = pos
        while pos < len(p) and p[pos] not in ";=":
            pos += 1
        name = p[start:pos].lower()
        if pos < len(p):
            if p[pos] == ";":
                continue
            pos += 1  # past the "="
        if pos >= len(p):
            break
        if p[pos] == '"':
            value, pos = _quoted(p, pos)
            while pos < len(p) and p[pos] != ";":
                pos += 1
        else:
            start = pos
            while pos < len(p) and p[pos] != ";":
                pos += 1
            value = p[start:pos].rstrip(_HTTP_WS)
            if not value:
                continue
        if name and _TOKEN.fullmatch(name) and _QUOTED_OK.fullmatch(value):
            parameters.setdefault(name, value)
    return MimeType(f"{kind.lower()}/{subtype.lower()}", parameters)


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """Fetch's "collect an HTTP quoted string" with the extract-value flag, from the opening quote."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        pos += 1
        if char == "\\":
            if pos >= len(text):
                out.append("\\")
                break
            out.append(text[pos])
            pos += 1
        elif char == '"':
            break
        else:
            out.append(char)
    return "".join(out), pos


def extract_mime_type(values: Sequence[str]) -> MimeType | None:
    """Fetch's "extract a MIME type" over every Content-Type value, in order; None for failure.

    The last parsable value wins (``*/*`` is skipped); a later value of the same essence without a
    charset keeps the charset of the earlier one.
    """
    if not values:
        return None
    charset: str | None = None
    essence: str | None = None
    mime: MimeType | None = None
    for value in split_values(values):
        parsed = parse_mime_type(value)
        if parsed is None or parsed.essence == "*/*":
            continue
        mime = parsed
        if mime.essence != essence:
            charset = mime.charset
            essence = mime.essence
        elif mime.charset is None and charset is not None:
            mime = MimeType(mime.essence, {**mime.parameters, "charset": charset})
    return mime
