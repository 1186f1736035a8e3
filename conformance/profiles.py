"""Profiles: what a given kind of stream is expected to carry, and how patiently to read it.

A profile is a TOML file (the built-in ones ship in ``conformance/profiles/`` and, for each
contract, beside its module in ``conformance/contracts/``); flags override its values through
:func:`profile_from_flags`. Which keys exist, their types and bounds: the settings table
(:mod:`conformance.settings`). Keeping every expectation in one frozen object means a
report can say exactly what it judged against, and the pytest plugin and CLI share one loader.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from conformance.capture.model import CaptureRequest, Limits
from conformance.errors import ProfileError
from conformance.parser import Event
from conformance.redaction import redact_headers
from conformance.settings import (
    DATA_FORMATS,
    DEFAULT_PROFILE,
    LIMITS,
    PROFILE_SETTINGS,
    REQUEST,
    TOP,
    given_values,
    headers_from_mapping,
    in_section,
    merge_headers,
)

__all__ = [
    "DATA_FORMATS",
    "Profile",
    "ProfileError",
    "builtin_names",
    "load_profile",
    "profile_from_flags",
    "profile_from_mapping",
    "redact_headers",
]

# Built-in profile files: the generic ones, and each contract's beside its module.
BUILTIN_DIRS = ("profiles", "contracts")


@dataclass(frozen=True)
class Profile:
    name: str = "generic"
    description: str = ""
    expect_count: int | None = None  # number of dispatched events, sentinel included
    sentinel: str | None = None  # the last message's data (compared after JSON-decoding, if json)
    sentinel_raw: bool = False  # compare the raw data only (`[DONE]`, as OpenAI SDKs do)
    data_format: str = "any"  # json | text | any
    event_type: str | None = None  # the type payload checks judge; None: not set (every type)
    interval: float | None = None  # expected seconds between messages (stream.cadence)
    contract: str | None = None  # an application contract (conformance.contracts) to judge too
    first_event_timeout: float = 5.0  # stream.first-event
    cadence_tolerance: float = 0.5  # fraction of the interval (with a 50 ms floor)
    burst_stall: float = 0.25  # stream.incremental: silence before a burst that looks buffered
    concurrency: int = 3  # stream.concurrent clients
    disconnect_clients: int = 3  # stream.disconnect aborting clients
    disconnect_after_events: int = 1  # each aborting client hangs up after this many events
    max_line_warn: int = 1024 * 1024  # framing.line-length warns above this
    endless: bool = False  # the stream never ends: a close by the server is a defect
    heartbeat_max: float = 30.0  # stream.heartbeat: longest silence on the wire before a warning
    resumable: str = "auto"  # reconnect.resume: "true" requires ids, "false" skips, "auto" by ids
    cut_after: int | None = None  # reconnect.resume: events before the cut (None: a third)
    reconnect_delay_max: float = 1.0  # cap on the stream's retry before the suite reconnects
    json_empty_data: str = "allow"  # payload.json: an empty data field is "allow"ed or a "fail"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    last_event_id: str | None = None
    origin: str | None = None  # the page's origin when it is another one (cors.origin)
    with_credentials: bool = False  # EventSource({withCredentials: true})
    cacert: str | None = None  # an extra CA file (PEM) to trust
    insecure: bool = False  # no TLS certificate verification
    limits: Limits = field(default_factory=Limits)
    options: Mapping[str, Any] = field(default_factory=dict)  # for checks added by extensions
    source: str = ""  # where it was loaded from

    def replace(self, **overrides: Any) -> Profile:
        """A copy with fields changed; limit names (``deadline``, ``close_grace``...) go to limits.

        Unknown names raise ProfileError, so a typo in a flag or TOML key never passes silently.
        """
        limit_names = {f.name for f in dataclasses.fields(Limits)}
        own_names = {f.name for f in dataclasses.fields(Profile)}
        limit_changes = {k: v for k, v in overrides.items() if k in limit_names}
        own_changes = {k: v for k, v in overrides.items() if k in own_names}
        unknown = set(overrides) - limit_names - own_names
        if unknown:
            raise ProfileError(f"unknown profile setting(s): {', '.join(sorted(unknown))}")
        if "headers" in own_changes and isinstance(own_changes["headers"], Mapping):
            own_changes["headers"] = headers_from_mapping(own_changes["headers"])
        if "options" in own_changes:
            own_changes["options"] = dict(own_changes["options"])
        limits = dataclasses.replace(self.limits, **limit_changes)
        new = dataclasses.replace(self, limits=limits, **own_changes)
        new.validate()
        return new

    def validate(self) -> None:
        """Raise ProfileError when a value has the wrong type, choice or bound (from the table
        in :mod:`conformance.settings`)."""
        for setting in PROFILE_SETTINGS:
            holder = self.limits if setting.section == LIMITS else self
            setting.check(getattr(holder, setting.name))

    @property
    def held(self) -> bool:
        """True when the capture reads for ``limits.hold`` seconds instead of to the end (an
        endless stream judged on what arrived). Never raises."""
        return self.limits.hold is not None

    def capture_request(self, url: str) -> CaptureRequest:
        return CaptureRequest(
            url=url,
            method=self.method,
            headers=self.headers,
            body=None if self.body is None else self.body.encode("utf-8", "surrogateescape"),
            last_event_id=self.last_event_id,
            origin=self.origin,
            cacert=self.cacert,
            insecure=self.insecure,
        )

    def decoded(self, data: str) -> Any:
        """The message as the page would use it: JSON-decoded under the json format."""
        if self.data_format == "json":
            try:
                return json.loads(data)
            except ValueError:
                return data
        return data

    def is_sentinel(self, data: str) -> bool:
        if self.sentinel is None:
            return False
        if data == self.sentinel:
            return True
        return not self.sentinel_raw and self.decoded(data) == self.sentinel

    def is_last(self, event: Event, index: int) -> bool:
        """Where the server should end the stream: at the sentinel, else after expect_count events.
        An event of another type than ``event_type`` is never the sentinel (h7, issue 10)."""
        if self.event_type is not None and event.type != self.event_type:
            return False
        if self.sentinel is not None:
            return self.is_sentinel(event.data)
        return self.expect_count is not None and index + 1 == self.expect_count

    def summary(self) -> dict[str, Any]:
        """The effective settings, for reports: credentials in request headers are redacted,
        because reports become CI artifacts."""
        out = dataclasses.asdict(self)
        out["headers"] = [list(h) for h in redact_headers(self.headers)]
        out["options"] = dict(self.options)
        return out


def _builtin_files() -> dict[str, Traversable]:
    out: dict[str, Traversable] = {}
    for folder in BUILTIN_DIRS:
        for item in resources.files("conformance").joinpath(folder).iterdir():
            if item.name.endswith(".toml"):
                out.setdefault(item.name[:-5], item)
    return out


def builtin_names() -> list[str]:
    return sorted(_builtin_files())


def _read_toml(name_or_path: str) -> tuple[dict[str, Any], str]:
    looks_like_path = name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path
    if not looks_like_path:
        resource = _builtin_files().get(name_or_path)
        if resource is None:
            known = ", ".join(builtin_names())
            raise ProfileError(
                f"unknown profile {name_or_path!r} (built-in: {known}; or a .toml path)"
            )
        text = resource.read_text(encoding="utf-8")
        source = f"builtin:{name_or_path}"
    else:
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(
                f"cannot read profile {name_or_path}: {exc.strerror or exc}"
            ) from None
        source = str(path)
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {name_or_path} is not valid TOML: {exc}") from None


def profile_from_mapping(data: Mapping[str, Any], *, base: Profile | None = None) -> Profile:
    """Build a profile from TOML-shaped data: top-level keys, ``[request]`` and ``[limits]`` tables.

    Keys and their rules come from :data:`conformance.settings.SETTINGS`. Raises ProfileError for
    an unknown key, a section that is not a table, or a value of the wrong type or bound.
    """
    data = dict(data)
    data.pop("extends", None)
    tables = {TOP: data, REQUEST: data.pop("request", {}), LIMITS: data.pop("limits", {})}
    if not all(isinstance(t, Mapping) for t in tables.values()):
        raise ProfileError("[request] and [limits] must be tables")
    overrides: dict[str, Any] = {}
    unknown = []
    for section, table in tables.items():
        known = in_section(section)
        for key, value in table.items():
            setting = known.get(key)
            if setting is None:
                unknown.append(key if section == TOP else f"{section}.{key}")
            else:
                overrides[key] = setting.from_file(value)
    if unknown:
        raise ProfileError(f"unknown profile key(s): {', '.join(sorted(unknown))}")
    try:
        return (base or Profile()).replace(**overrides)
    except TypeError as exc:
        raise ProfileError(f"bad profile value: {exc}") from None


def profile_from_flags(values: Mapping[str, Any]) -> Profile:
    """The profile named by ``values["profile"]`` (default: the default profile) with every given
    flag applied; ``values`` holds flag texts by setting name (missing, None or []: not given).

    Shared by the CLI and the pytest plugin. A ``-H`` header replaces the profile's header of that
    name. Raises SettingError (a value that does not parse) or ProfileError.
    """
    profile = load_profile(values.get("profile") or DEFAULT_PROFILE)
    overrides = given_values(values, PROFILE_SETTINGS)
    if "headers" in overrides:
        overrides["headers"] = merge_headers(profile.headers, overrides["headers"])
    return profile.replace(**overrides)


def load_profile(name_or_path: str, _seen: tuple[str, ...] = ()) -> Profile:
    """A built-in profile by name (``ram-monitor``, ``generic``...) or a TOML file by path.

    A file may say ``extends = "ram-monitor"`` to start from another profile. Raises
    ProfileError (unknown name, unreadable file, bad TOML, a loop of ``extends``, a bad key).
    """
    if name_or_path in _seen:
        raise ProfileError(f"profile {name_or_path!r} extends itself")
    data, source = _read_toml(name_or_path)
    base: Profile | None = None
    if "extends" in data:
        base = load_profile(str(data["extends"]), (*_seen, name_or_path))
    profile = profile_from_mapping(data, base=base)
    if "name" not in data:
        profile = dataclasses.replace(profile, name=Path(name_or_path).stem)
    return dataclasses.replace(profile, source=source)
