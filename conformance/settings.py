"""Every setting of the suite, declared once: how it is given and how its text becomes a value.

One :class:`Setting` per thing a user can set, with its name, type, help, profile key (top level,
``[request]`` or ``[limits]``; ``run`` for what is not part of a profile: selection, reports,
launch), flag, metavar, the words that unset it (``none``, ``""``, ``*``), its choices and its
bound. Everything else is generated from :data:`SETTINGS`: the CLI's argparse options
(:func:`add_arguments`), the pytest plugin's ``--sse-*`` options, the TOML keys a profile file
accepts and the type and bound checks of :class:`conformance.profiles.Profile`. Adding a setting
is one entry here plus the field that holds it (and the code that uses it).

Defaults live in the dataclass that holds the value (``Profile``, ``capture.model.Limits``,
:class:`RunOptions`): the table says how a value is *given*; a test keeps the two in step.

Flags and pytest options are kept as the text the user typed (``None`` or ``[]``: not given) and
converted here, by the same code for both front ends (:meth:`Setting.from_text`); profile files go
through :meth:`Setting.from_file`. Neither raises anything but a :class:`UsageError` subclass.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from conformance.errors import ProfileError, SelectionError, SettingError, UsageError

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
    if bound == ">0" and not value > 0:
        return "> 0"
    if bound == ">=0" and not value >= 0:
        return ">= 0"
    return ""


def parse_header(text: str) -> list[tuple[str, str]]:
    """``Name: value`` (the -H flag) to a pair; raises SettingError with a one-line reason."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip():
        raise SettingError(f"header {text!r} is not 'Name: value'")
    return [(name.strip(), rest.strip())]


def headers_from_mapping(mapping: Any) -> tuple[tuple[str, str], ...]:
    """A profile's ``[request.headers]`` table to pairs; raises ProfileError when not a table."""
    if not isinstance(mapping, Mapping):
        raise ProfileError("request.headers must be a table of name = value")
    return tuple((str(k), str(v)) for k, v in mapping.items())


def merge_headers(
    base: Sequence[tuple[str, str]], given: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """``base`` with ``given`` added: a given header replaces every base header of its name."""
    names = {name.lower() for name, _ in given}
    return tuple(h for h in base if h[0].lower() not in names) + tuple(given)


def read_body(text: str) -> str:
    """The request body of ``--data``: the text itself, or the file named after ``@``."""
    if not text.startswith("@"):
        return text
    try:
        with open(text[1:], encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise SettingError(f"cannot read body file {text[1:]}: {exc.strerror or exc}") from None


def body_from_file(value: Any) -> Any:
    """A table or array body is sent as JSON; a string as is."""
    return json.dumps(value) if isinstance(value, Mapping | list) else value


def parse_globs(text: str) -> list[str]:
    """``--only 'http.*,framing.*'``: comma-separated check-id globs."""
    return [g.strip() for g in text.split(",") if g.strip()]


SETTINGS: tuple[Setting, ...] = (
    # the profile's expectations and tolerances (top-level keys)
    Setting("name", str, "the profile's name", flag=None),
    Setting("description", str, "what the profile is for", flag=None),
    Setting(
        "expect_count",
        int,
        "messages expected, sentinel included ('none': any)",
        metavar="N",
        optional=True,
        unset=("none", ""),
        bound=">=0",
    ),
    Setting(
        "sentinel",
        str,
        "data of the last message ('' for none)",
        metavar="TEXT",
        optional=True,
        unset=("",),
    ),
    Setting("sentinel_raw", bool, "compare the sentinel with the raw data only", flag=None),
    Setting(
        "data_format",
        str,
        "what every data must be: json, text or any",
        metavar="{" + ",".join(DATA_FORMATS) + "}",
        choices=DATA_FORMATS,
    ),
    Setting(
        "event_type",
        str,
        "expected event type ('*' for any)",
        metavar="NAME",
        optional=True,
        unset=("*", ""),
    ),
    Setting(
        "interval",
        float,
        "expected seconds between messages ('none')",
        metavar="SECONDS",
        optional=True,
        unset=("none", ""),
        bound=">0",
    ),
    Setting(
        "contract", str, "application contract (conformance.contracts)", optional=True, flag=None
    ),
    Setting(
        "cadence_tolerance",
        float,
        "stream.cadence: allowed deviation, a fraction of the interval (0.5)",
        metavar="FRACTION",
        bound=">0",
    ),
    Setting(
        "first_event_timeout",
        float,
        "stream.first-event: seconds to the first event (5)",
        metavar="SECONDS",
        bound=">0",
    ),
    Setting(
        "burst_stall",
        float,
        "stream.incremental: silence before a burst that counts as buffering (0.25)",
        metavar="SECONDS",
        bound=">0",
    ),
    Setting(
        "max_line_warn",
        int,
        "framing.line-length warns above (1 MiB)",
        metavar="BYTES",
        bound=">0",
    ),
    Setting("concurrency", int, "clients of stream.concurrent", metavar="K", bound=">=0"),
    Setting(
        "disconnect_clients",
        int,
        "aborting clients of stream.disconnect",
        metavar="K",
        bound=">=0",
    ),
    Setting(
        "disconnect_after_events",
        int,
        "each aborting client hangs up after this many events",
        flag=None,
        bound=">=0",
    ),
    Setting("options", dict, "settings of checks added by extensions", flag=None, from_toml=dict),
    # the request ([request])
    Setting("method", str, "HTTP method (GET)", REQUEST, metavar="METHOD", parse=str.upper),
    Setting(
        "headers",
        tuple,
        "request header; replaces the profile's header of that name",
        REQUEST,
        metavar="'Name: value'",
        flag="--header",
        aliases=("-H",),
        repeat=True,
        parse=parse_header,
        from_toml=headers_from_mapping,
    ),
    Setting(
        "body",
        str,
        "request body (@FILE reads a file)",
        REQUEST,
        metavar="TEXT",
        optional=True,
        flag="--data",
        aliases=("--body",),
        parse=read_body,
        from_toml=body_from_file,
    ),
    Setting("last_event_id", str, "Last-Event-ID header", REQUEST, metavar="ID", optional=True),
    # capture limits ([limits]): each ends the capture with its own reason
    Setting(
        "connect_timeout", float, "seconds to connect (5)", LIMITS, metavar="SECONDS", bound=">0"
    ),
    Setting(
        "first_byte_timeout",
        float,
        "seconds from connected to the response headers (10)",
        LIMITS,
        metavar="SECONDS",
        bound=">0",
    ),
    Setting(
        "idle_timeout",
        float,
        "longest silence between body bytes (15)",
        LIMITS,
        metavar="SECONDS",
        bound=">0",
    ),
    Setting(
        "deadline", float, "seconds for the whole capture", LIMITS, metavar="SECONDS", bound=">0"
    ),
    Setting(
        "close_grace",
        float,
        "seconds the server may keep the stream open after the last event (2)",
        LIMITS,
        metavar="SECONDS",
        bound=">=0",
    ),
    Setting("max_bytes", int, "body bytes to read at most", LIMITS, metavar="N", bound=">0"),
    Setting("max_events", int, "events to read at most", LIMITS, metavar="N", bound=">0"),
    Setting(
        "max_line_bytes",
        int,
        "the parser drops the rest of a longer line",
        LIMITS,
        metavar="N",
        bound=">0",
    ),
    # the run: not part of a profile
    Setting(
        "profile",
        str,
        f"built-in name or a .toml file (default {DEFAULT_PROFILE})",
        RUN,
        metavar="NAME|FILE",
        group=OUTPUT,
        ini=True,
    ),
    Setting(
        "only",
        tuple,
        "run only the checks matching these globs",
        RUN,
        metavar="GLOBS",
        repeat=True,
        parse=parse_globs,
        group=OUTPUT,
    ),
    Setting(
        "skip",
        tuple,
        "skip the checks matching these globs",
        RUN,
        metavar="GLOBS",
        repeat=True,
        parse=parse_globs,
        group=OUTPUT,
    ),
    Setting("strict", bool, "warnings fail too", RUN, group=OUTPUT, ini=True),
    Setting("json_report", str, "write the JSON report", RUN, metavar="FILE", group=OUTPUT),
    Setting(
        "junit_xml",
        str,
        "write a JUnit XML report (one testcase per check)",
        RUN,
        metavar="FILE",
        group=OUTPUT,
        pytest=False,  # pytest has --junitxml
    ),
    Setting(
        "html_report",
        str,
        "write the self-contained HTML report",
        RUN,
        metavar="FILE",
        group=OUTPUT,
    ),
    Setting(
        "save_body",
        str,
        "write the captured body (decoded bytes): replay with decode",
        RUN,
        metavar="FILE",
        group=OUTPUT,
    ),
    Setting(
        "launch",
        str,
        "start CMD ({host} {port} {url} expanded), wait for the URL, run, stop it",
        RUN,
        metavar="CMD",
        group=LAUNCH,
    ),
    Setting(
        "ready_timeout",
        float,
        f"seconds the launched command may take to answer ({DEFAULT_READY_TIMEOUT:g})",
        RUN,
        metavar="SECONDS",
        bound=">0",
        group=LAUNCH,
    ),
    Setting(
        "launch_grace",
        float,
        f"seconds between SIGTERM and SIGKILL when stopping it ({DEFAULT_LAUNCH_GRACE:g})",
        RUN,
        metavar="SECONDS",
        bound=">0",
        group=LAUNCH,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
PROFILE_SETTINGS = tuple(s for s in SETTINGS if s.section != RUN)
RUN_SETTINGS = tuple(s for s in SETTINGS if s.section == RUN)


def in_section(section: Section) -> dict[str, Setting]:
    """The settings of one profile-file section, by key."""
    return {s.name: s for s in SETTINGS if s.section == section}


@dataclass(frozen=True)
class RunOptions:
    """What a run does besides judging a profile: which checks, which reports, what to launch."""

    profile: str = DEFAULT_PROFILE
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    strict: bool = False
    json_report: str | None = None
    junit_xml: str | None = None
    html_report: str | None = None
    save_body: str | None = None
    launch: str | None = None
    ready_timeout: float = DEFAULT_READY_TIMEOUT
    launch_grace: float = DEFAULT_LAUNCH_GRACE


def given_values(values: Mapping[str, Any], settings: Sequence[Setting]) -> dict[str, Any]:
    """Flag texts to values for ``settings``: missing, None, False and [] mean "not given".

    Repeated settings give a list (flattened over the items). Raises SettingError.
    """
    out: dict[str, Any] = {}
    for setting in settings:
        raw = values.get(setting.name)
        if raw is None or raw is False or (setting.repeat and not raw):
            continue
        if setting.kind is bool:
            out[setting.name] = bool(raw)
        elif setting.repeat:
            items = [raw] if isinstance(raw, str) else list(raw)
            out[setting.name] = [v for item in items for v in setting.from_text(str(item))]
        else:
            out[setting.name] = setting.from_text(str(raw))
    return out


def run_options(values: Mapping[str, Any]) -> RunOptions:
    """The run settings among ``values`` (flag texts by setting name), checked.

    Raises SettingError for a value that does not parse and SelectionError for a glob that
    matches no check.
    """
    given = given_values(values, RUN_SETTINGS)
    for name in ("only", "skip"):
        if name in given:
            given[name] = tuple(given[name])
    options = RunOptions(**given)
    select_checks(options.only, options.skip)
    return options


def select_checks(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[Any]:
    """The catalogue entries ``only``/``skip`` select; raises SelectionError for a glob that
    matches nothing (the registry's ValueError, caught here once for every front end)."""
    from conformance.checks.registry import select

    try:
        return select(only, skip)
    except ValueError as exc:
        raise SelectionError(str(exc)) from None


def check_url(url: str | None) -> str:
    """``url`` if the suite can judge it (http/https, a host, a valid port); else UsageError."""
    if not url:
        raise UsageError("a URL is required (or --list-checks)")
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"the URL must start with http:// or https://: {url!r}")
    import httpx  # only when a URL is checked: loading a profile does not need the HTTP client

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if not parsed.host:
        raise UsageError(f"the URL has no host: {url!r}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UsageError(f"the URL's port is out of range: {url!r}")
    return url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every setting that has a flag to ``parser``, in groups; values stay text (dest: the
    setting's name; None, or [] for repeated ones, when not given)."""
    groups: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.option is None:
            continue
        title = setting.group or GROUP_TITLES[setting.section]
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        kwargs: dict[str, Any] = {"dest": setting.name, "help": setting.help}
        if setting.kind is bool and not setting.repeat:
            kwargs["action"] = "store_true"
            kwargs["default"] = None
        else:
            kwargs["metavar"] = setting.metavar
            if setting.repeat:
                kwargs["action"] = "append"
                kwargs["default"] = []
            if setting.choices:
                kwargs["choices"] = setting.choices
                del kwargs["metavar"]
        groups[title].add_argument(*setting.option_strings, **kwargs)
