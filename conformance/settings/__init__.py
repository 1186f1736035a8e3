"""Every setting of the suite, declared once: how it is given and how its text becomes a value.

One :class:`Setting` per thing a user can set, with its name, type, help, profile key (top level,
``[request]`` or ``[limits]``; ``run`` for what is not part of a profile: selection, reports,
launch), flag, metavar, the words that unset it (``none``, ``""``, ``*``), its choices and its
bound. Everything else is generated from :data:`SETTINGS` (in :mod:`conformance.settings.table`): the CLI's argparse options
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.errors import UsageError
from conformance.settings.setting import (
    BROWSER,
    DATA_FORMATS,
    DEFAULT_LAUNCH_GRACE,
    DEFAULT_PROFILE,
    DEFAULT_READY_TIMEOUT,
    GROUP_TITLES,
    LAUNCH,
    LIMITS,
    OUTPUT,
    REQUEST,
    RUN,
    TOP,
    Bound,
    Section,
    Setting,
    body_from_file,
    headers_from_mapping,
    merge_headers,
    parse_globs,
    parse_header,
    read_body,
)
from conformance.settings.table import SETTINGS

__all__ = [
    "BROWSER",
    "BY_NAME",
    "DATA_FORMATS",
    "DEFAULT_LAUNCH_GRACE",
    "DEFAULT_PROFILE",
    "DEFAULT_READY_TIMEOUT",
    "GROUP_TITLES",
    "LAUNCH",
    "LIMITS",
    "OUTPUT",
    "PROFILE_SETTINGS",
    "REQUEST",
    "RUN",
    "RUN_SETTINGS",
    "SETTINGS",
    "TOP",
    "Bound",
    "RunOptions",
    "Section",
    "Setting",
    "add_arguments",
    "body_from_file",
    "check_url",
    "given_values",
    "headers_from_mapping",
    "in_section",
    "merge_headers",
    "parse_globs",
    "parse_header",
    "read_body",
    "run_options",
]

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
    browser: bool = False
    chromium_path: str | None = None
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

    Raises SettingError for a value that does not parse (the globs are checked against the
    catalogue by :func:`conformance.checks.registry.select`, which raises SelectionError).
    """
    given = given_values(values, RUN_SETTINGS)
    for name in ("only", "skip"):
        if name in given:
            given[name] = tuple(given[name])
    return RunOptions(**given)


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


def add_arguments(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """Add every setting that has a flag (or only those in ``names``: the load mode takes the
    profile and the request) to ``parser``, in groups; values stay text (dest: the setting's
    name; None, or [] for repeated ones, when not given)."""
    groups: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.option is None or (names is not None and setting.name not in names):
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
