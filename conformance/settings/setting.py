"""One setting of the suite (:class:`Setting`): how it is given, checked and parsed; and the small
converters the table uses (headers, bodies, globs)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from conformance.errors import ProfileError, SettingError
from conformance.origins import origin_of

DATA_FORMATS = ("json", "text", "any")
DEFAULT_PROFILE = "generic"  # any endpoint: protocol checks only, no application contract
DEFAULT_READY_TIMEOUT = 30.0
DEFAULT_LAUNCH_GRACE = 5.0

Section = Literal["top", "request", "limits", "run"]
Bound = Literal["", ">0", ">=0"]
TOP: Section = "top"
REQUEST: Section = "request"
LIMITS: Section = "limits"
RUN: Section = "run"
OUTPUT = "selection and output"
LAUNCH = "launch the server under test"
BROWSER = "what a page sees (a real browser)"
# argparse group of each section (a run setting may name its own)
GROUP_TITLES: dict[str, str] = {
    TOP: "expectations (override the profile)",
    REQUEST: "request",
    LIMITS: "capture limits",
    RUN: OUTPUT,
}

_TYPE_NAMES = {int: "int", float: "float", str: "str", bool: "bool", tuple: "tuple", dict: "dict"}


@dataclass(frozen=True)
class Setting:
    """One setting: the single place its name, type, flag, help and parsing rules are written.

    ``kind`` is int, float, str, bool, tuple (``headers``) or dict (``options``); ``optional``
    admits None, which the words in ``unset`` mean (compared case-insensitively). ``flag`` ""
    derives ``--the-name``; None means the setting has no flag (profile files only). ``repeat``
    settings are given several times (``-H``, ``--only``) and ``parse`` returns a list per item.
    """

    name: str
    kind: type
    help: str
    section: Section = TOP
    metavar: str | None = None
    optional: bool = False
    unset: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    bound: Bound = ""
    flag: str | None = ""
    aliases: tuple[str, ...] = ()
    repeat: bool = False
    parse: Callable[[str], Any] | None = None  # flag text -> value (default: by kind)
    from_toml: Callable[[Any], Any] | None = None  # profile-file value -> value
    group: str = ""  # argparse group, for run settings
    pytest: bool = True  # mirrored by the pytest plugin as --sse-<flag>
    ini: bool = False  # also an ini key of the pytest plugin (sse_<name>)

    @property
    def option(self) -> str | None:
        """The long flag (``--expect-count``), or None for a profile-file-only setting."""
        if self.flag is None:
            return None
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def option_strings(self) -> tuple[str, ...]:
        if self.option is None:
            return ()
        shorts = tuple(a for a in self.aliases if not a.startswith("--"))
        longs = tuple(a for a in self.aliases if a.startswith("--"))
        return (*shorts, self.option, *longs)

    @property
    def pytest_option(self) -> str:
        """``--sse-expect-count``: the plugin's twin of the flag."""
        return "--sse-" + (self.option or self.name)[2:]

    @property
    def pytest_dest(self) -> str:
        return "sse_" + self.name

    @property
    def key(self) -> str:
        """The key in a profile file: ``expect_count``, ``request.method``, ``limits.deadline``."""
        return self.name if self.section in (TOP, RUN) else f"{self.section}.{self.name}"

    @property
    def types(self) -> tuple[type, ...]:
        """The Python types a value may have once set (bool is never an int here)."""
        base: tuple[type, ...] = (int, float) if self.kind is float else (self.kind,)
        if self.kind is dict:
            base = (Mapping,)
        return (*base, type(None)) if self.optional else base

    def check(self, value: Any) -> None:
        """Raise ProfileError when ``value`` has the wrong type or is out of bounds."""
        allowed = self.types
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            want = " or ".join(
                "none" if t is type(None) else _TYPE_NAMES.get(t, t.__name__) for t in allowed
            )
            raise ProfileError(f"{self.name} must be {want}, not {value!r}")
        if value is None:
            return
        if self.choices and value not in self.choices:
            raise ProfileError(
                f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}"
            )
        problem = _bound_problem(self.bound, value)
        if problem:
            raise ProfileError(f"{self.name} must be {problem}")

    def from_text(self, text: str) -> Any:
        """The value of a flag (or pytest option) given as ``text``; raises SettingError."""
        where = self.option or self.name
        if text.lower() in self.unset:
            return None
        if self.parse is not None:
            return self.parse(text)
        if self.choices and text not in self.choices:
            raise SettingError(f"{where}: invalid choice {text!r} (choose from {self.choices})")
        if self.kind is str:
            return text
        value: int | float
        either = f" (or {self.unset[0]!r})" if self.unset else ""
        try:
            value = int(text) if self.kind is int else float(text)
        except ValueError:
            what = "an integer" if self.kind is int else "a number"
            raise SettingError(f"{where}: not {what}{either}: {text!r}") from None
        problem = _bound_problem(self.bound, value)
        if problem:
            raise SettingError(f"{where} must be {problem}: {text!r}")
        return value

    def from_file(self, value: Any) -> Any:
        """The value of a profile-file key (TOML has no null: an unset word means None)."""
        if isinstance(value, str) and value.lower() in self.unset:
            return None
        return value if self.from_toml is None else self.from_toml(value)


def _bound_problem(bound: Bound, value: Any) -> str:
    """Why ``value`` breaks ``bound`` ("" when it does not); NaN and infinities never pass: a
    limit of ``nan`` or ``inf`` would silently remove the limit."""
    if isinstance(value, float) and not math.isfinite(value):
        return "a finite number"
    if bound == ">0" and not value > 0:
        return "> 0"
    if bound == ">=0" and not value >= 0:
        return ">= 0"
    return ""


# RFC 9110 token characters: what a method or a header name may hold
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _token_problem(text: str) -> str:
    bad = sorted({c for c in text if c not in _TCHAR})
    if not text:
        return "is empty"
    return f"holds {''.join(bad)!r}, not allowed in an HTTP token" if bad else ""


def _value_problem(text: str) -> str:
    """Why ``text`` cannot be sent as a header value ("" when it can): CR, LF and NUL would
    split or end the head; other control characters and non-ASCII are refused by the client."""
    for c in text:
        if c in "\r\n\0":
            return f"holds {c!r}, which would split the request head"
        if (ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F:
            return f"holds the control character {c!r}"
        if ord(c) > 0x7E:
            return f"holds {c!r}: header values are sent as ASCII"
    return ""


def parse_method(text: Any) -> Any:
    """``--method`` / ``request.method``: an HTTP token, upper-cased; raises SettingError."""
    if not isinstance(text, str):
        return text  # the type check names it
    problem = _token_problem(text)
    if problem:
        raise SettingError(f"method {text!r} {problem}")
    return text.upper()


def parse_field_value(text: Any) -> Any:
    """``--last-event-id`` / ``request.last_event_id``: sendable as a header value as given;
    raises SettingError."""
    if isinstance(text, str):
        problem = _value_problem(text)
        if problem:
            raise SettingError(f"last-event-id {text!r} {problem}")
    return text


def _checked_header(name: str, value: str) -> tuple[str, str]:
    problem = _token_problem(name)
    if problem:
        raise SettingError(f"header name {name!r} {problem}")
    problem = _value_problem(value)
    if problem:
        raise SettingError(f"header {name} value {value!r} {problem}")
    return name, value


def parse_header(text: str) -> list[tuple[str, str]]:
    """``Name: value`` (the -H flag) to a pair; raises SettingError with a one-line reason (no
    colon, a name that is not a token, a value with CR, LF, NUL or another control character)."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip():
        raise SettingError(f"header {text!r} is not 'Name: value'")
    return [_checked_header(name.strip(), rest.strip())]


def headers_from_mapping(mapping: Any) -> tuple[tuple[str, str], ...]:
    """A profile's ``[request.headers]`` table to pairs; raises ProfileError when not a table and
    SettingError for a name or value that cannot be sent (as :func:`parse_header`)."""
    if not isinstance(mapping, Mapping):
        raise ProfileError("request.headers must be a table of name = value")
    return tuple(_checked_header(str(k), str(v)) for k, v in mapping.items())


def merge_headers(
    base: Sequence[tuple[str, str]], given: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """``base`` with ``given`` added: a given header replaces every base header of its name."""
    names = {name.lower() for name, _ in given}
    return tuple(h for h in base if h[0].lower() not in names) + tuple(given)


def read_body(text: str) -> str:
    """The request body of ``--data``: the text itself, or the file named after ``@``.

    A file is sent byte for byte: bytes that are not UTF-8 are kept as surrogate escapes, which
    :meth:`conformance.profiles.Profile.capture_request` turns back into the same bytes. Raises
    SettingError naming the file when it cannot be read."""
    if not text.startswith("@"):
        return text
    try:
        with open(text[1:], "rb") as fh:
            return fh.read().decode("utf-8", "surrogateescape")
    except OSError as exc:
        raise SettingError(f"cannot read body file {text[1:]}: {exc.strerror or exc}") from None


def body_from_file(value: Any) -> Any:
    """A table or array body is sent as JSON; a string as is."""
    return json.dumps(value) if isinstance(value, Mapping | list) else value


def parse_globs(text: str) -> list[str]:
    """``--only 'http.*,framing.*'``: comma-separated check-id globs."""
    return [g.strip() for g in text.split(",") if g.strip()]


def parse_origin(text: Any) -> str:
    """``--origin``: the page's origin, serialized as a browser sends it (``scheme://host[:port]``,
    lowercase, no default port, no path); raises SettingError for anything else."""
    from urllib.parse import urlsplit

    raw = str(text).strip()
    try:
        parts = urlsplit(raw)
        _ = parts.port  # a port that is no number raises here
    except ValueError:
        raise SettingError(f"--origin: not an origin (scheme://host[:port]): {raw!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise SettingError(f"--origin: not an http(s) origin (scheme://host[:port]): {raw!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise SettingError(f"--origin: an origin has no path, query or user: {raw!r}")
    return origin_of(raw)  # serialized as Fetch does (lowercase, no default port)


def parse_cacert(text: Any) -> str:
    """``--cacert FILE``: a readable file of PEM certificates; raises SettingError otherwise."""
    path = str(text)
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            head = fh.read(1 << 20)
    except OSError as exc:
        raise SettingError(f"cannot read --cacert {path}: {exc.strerror or exc}") from None
    if "-----BEGIN CERTIFICATE-----" not in head:
        raise SettingError(f"--cacert {path}: no PEM certificate in it")
    return path
