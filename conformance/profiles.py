"""Profiles: what a given kind of stream is expected to carry, and how patiently to read it.

A profile is a TOML file (the built-in ones ship in ``conformance/profiles/`` and, for each contract, beside its module in ``conformance/contracts/``); flags override its
values through :meth:`Profile.replace`. Keeping every expectation in one frozen object means a
report can say exactly what it judged against, and the pytest plugin and CLI share one loader.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from conformance.capture.model import CaptureRequest, Limits
from conformance.parser import Event

DATA_FORMATS = ("json", "text", "any")
RESUMABLE = (
    "auto",
    "true",
    "false",
)  # reconnect.*: resume judged when ids are sent / always / never
# Built-in profile files: the generic ones, and each contract's beside its module.
BUILTIN_DIRS = ("profiles", "contracts")


class ProfileError(ValueError):
    """A profile that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Profile:
    name: str = "generic"
    description: str = ""
    expect_count: int | None = None  # number of dispatched events, sentinel included
    sentinel: str | None = None  # the last message's data (compared after JSON-decoding, if json)
    sentinel_raw: bool = False  # compare the raw data only (`[DONE]`, as OpenAI SDKs do)
    data_format: str = "any"  # json | text | any
    event_type: str | None = "message"  # None: any type is fine
    interval: float | None = None  # expected seconds between messages (stream.cadence)
    contract: str | None = None  # an application contract (conformance.contracts) to judge too
    first_event_timeout: float = 5.0  # stream.first-event
    cadence_tolerance: float = 0.5  # fraction of the interval (with a 50 ms floor)
    burst_stall: float = 0.25  # stream.incremental: silence before a burst that looks buffered
    concurrency: int = 3  # stream.concurrent clients
    disconnect_clients: int = 3  # stream.disconnect aborting clients
    disconnect_after_events: int = 1  # each aborting client hangs up after this many events
    max_line_warn: int = 1024 * 1024  # framing.line-length warns above this
    resumable: str = "auto"  # reconnect.*: auto (when the stream sends ids) | true | false
    cut_after: int | None = (
        None  # reconnect.resume: cut after N events (None: a third of the count)
    )
    reconnect_delay_max: float = 1.0  # seconds: cap on the stream's retry before reconnecting
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    last_event_id: str | None = None
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
        limits = dataclasses.replace(self.limits, **limit_changes)
        new = dataclasses.replace(self, limits=limits, **own_changes)
        new.validate()
        return new

    def validate(self) -> None:
        _check_types(self, _PROFILE_TYPES)
        _check_types(self.limits, _LIMIT_TYPES)
        if self.data_format not in DATA_FORMATS:
            raise ProfileError(
                f"data_format must be one of {', '.join(DATA_FORMATS)}, not {self.data_format!r}"
            )
        if self.expect_count is not None and self.expect_count < 0:
            raise ProfileError("expect_count must be >= 0")
        if self.concurrency < 0 or self.disconnect_clients < 0:
            raise ProfileError("concurrency and disconnect_clients must be >= 0")
        for name in ("connect_timeout", "first_byte_timeout", "idle_timeout", "deadline"):
            if getattr(self.limits, name) <= 0:
                raise ProfileError(f"{name} must be > 0")
        if self.limits.close_grace < 0:
            raise ProfileError("close_grace must be >= 0")
        if self.limits.max_bytes <= 0 or self.limits.max_events <= 0:
            raise ProfileError("max_bytes and max_events must be > 0")
        if self.interval is not None and self.interval <= 0:
            raise ProfileError("interval must be > 0")
        if self.resumable not in RESUMABLE:
            raise ProfileError(
                f"resumable must be one of {', '.join(RESUMABLE)}, not {self.resumable!r}"
            )
        if self.cut_after is not None and self.cut_after < 1:
            raise ProfileError("cut_after must be >= 1")
        if self.reconnect_delay_max < 0:
            raise ProfileError("reconnect_delay_max must be >= 0")

    def capture_request(self, url: str) -> CaptureRequest:
        return CaptureRequest(
            url=url,
            method=self.method,
            headers=self.headers,
            body=None if self.body is None else self.body.encode("utf-8"),
            last_event_id=self.last_event_id,
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
        """Where the server should end the stream: at the sentinel, else after expect_count events."""
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


def headers_from_mapping(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in mapping.items())


SECRET_HEADER_WORDS = ("auth", "cookie", "token", "key", "secret", "session", "password")


def redact_headers(headers: Iterable[Sequence[str]]) -> list[tuple[str, str]]:
    """Headers as shown in a report: values of credential-looking names replaced by their length."""
    out = []
    for name, value in headers:
        secret = any(word in name.lower() for word in SECRET_HEADER_WORDS)
        out.append((name, f"<redacted, {len(value)} chars>" if secret else value))
    return out


_NUMBER = (int, float)
_PROFILE_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str,),
    "expect_count": (int, type(None)),
    "sentinel": (str, type(None)),
    "data_format": (str,),
    "event_type": (str, type(None)),
    "interval": (*_NUMBER, type(None)),
    "contract": (str, type(None)),
    "sentinel_raw": (bool,),
    "first_event_timeout": _NUMBER,
    "cadence_tolerance": _NUMBER,
    "burst_stall": _NUMBER,
    "concurrency": (int,),
    "disconnect_clients": (int,),
    "disconnect_after_events": (int,),
    "max_line_warn": (int,),
    "resumable": (str,),
    "cut_after": (int, type(None)),
    "reconnect_delay_max": _NUMBER,
    "method": (str,),
    "body": (str, type(None)),
    "last_event_id": (str, type(None)),
}
_LIMIT_TYPES: dict[str, tuple[type, ...]] = {
    "connect_timeout": _NUMBER,
    "first_byte_timeout": _NUMBER,
    "idle_timeout": _NUMBER,
    "deadline": _NUMBER,
    "close_grace": _NUMBER,
    "max_bytes": (int,),
    "max_events": (int,),
    "max_line_bytes": (int,),
}


def _check_types(obj: object, types: dict[str, tuple[type, ...]]) -> None:
    for name, allowed in types.items():
        value = getattr(obj, name)
        # bool is an int subclass: accept it only where bool is asked for
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            want = " or ".join("none" if t is type(None) else t.__name__ for t in allowed)
            raise ProfileError(f"{name} must be {want}, not {value!r}")


_TOP_KEYS = {f.name for f in dataclasses.fields(Profile)} - {"limits", "source", "headers"}
_REQUEST_KEYS = {"method", "headers", "body", "last_event_id"}
_LIMIT_KEYS = {f.name for f in dataclasses.fields(Limits)}


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
    """Build a profile from TOML-shaped data: top-level keys, ``[request]`` and ``[limits]`` tables."""
    data = dict(data)
    overrides: dict[str, Any] = {}
    request = data.pop("request", {})
    limits = data.pop("limits", {})
    data.pop("extends", None)
    if not isinstance(request, Mapping) or not isinstance(limits, Mapping):
        raise ProfileError("[request] and [limits] must be tables")
    unknown = (set(data) - _TOP_KEYS) | {f"request.{k}" for k in set(request) - _REQUEST_KEYS}
    unknown |= {f"limits.{k}" for k in set(limits) - _LIMIT_KEYS}
    if unknown:
        raise ProfileError(f"unknown profile key(s): {', '.join(sorted(unknown))}")
    overrides.update(data)
    overrides.update(request)
    overrides.update(limits)
    if "headers" in overrides and not isinstance(overrides["headers"], Mapping):
        raise ProfileError("request.headers must be a table of name = value")
    if isinstance(overrides.get("body"), Mapping | list):
        overrides["body"] = json.dumps(overrides["body"])
    for key in ("sentinel", "event_type"):
        if overrides.get(key) == "":
            overrides[key] = None  # TOML has no null: "" means "not set"
    if isinstance(overrides.get("resumable"), bool):
        overrides["resumable"] = str(overrides["resumable"]).lower()  # TOML `resumable = true`
    try:
        return (base or Profile()).replace(**overrides)
    except TypeError as exc:
        raise ProfileError(f"bad profile value: {exc}") from None


def load_profile(name_or_path: str, _seen: tuple[str, ...] = ()) -> Profile:
    """A built-in profile by name (``ram-monitor``, ``generic``...) or a TOML file by path.

    A file may say ``extends = "ram-monitor"`` to start from another profile.
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
