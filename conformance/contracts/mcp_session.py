"""The MCP session driver: the requests that follow ``initialize``, recorded for the mcp.* checks.

Why a driver: MCP Streamable HTTP is a conversation, not one stream. The main capture is the
``initialize`` POST; what makes a server conformant shows in the requests after it (the session id
sent back, a request without it refused, a resumed stream, the session ended by DELETE). The
suite's design stays "capture once, judge many": this module sends those requests once, after the
main capture, and keeps each exchange as a :class:`~conformance.capture.model.Capture` (status,
headers, body and events parsed by the suite's own parser) in an :class:`McpRun`; the checks in
:mod:`conformance.contracts.mcp_streamable_http` are pure functions over that record.

Every exchange is one :func:`conformance.capture.http.capture` call bounded by the profile's
limits, so nothing here waits without a limit and nothing raises for network trouble.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from conformance.capture.http import capture
from conformance.capture.model import Capture, CaptureRequest, IsLast, TimedEvent
from conformance.parser import Event
from conformance.profiles import Profile, ProfileError

CONTRACT = "mcp-streamable-http"
# Protocol versions this profile judges. 2025-11-25 added the priming event; 2025-06-18 has the
# same sessions and resumption without it. The 2026 revision drops sessions and resumption by
# GET: it needs a profile of its own.
SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18")
VERSION_HEADER = "MCP-Protocol-Version"
SESSION_HEADER = "Mcp-Session-Id"
ACCEPT_BOTH = "application/json, text/event-stream"
PROBE_METHOD = "tools/list"  # answered by every server (a result, or a JSON-RPC error)

# Steps of a run, in the order they are sent.
INITIALIZED = "initialized"  # notifications/initialized with the session id: 202 expected
PROBE = "probe"  # tools/list with the session id: the JSON-RPC response with its id
WITHOUT_SESSION = "without-session"  # tools/list without the session id: 400 expected
RESUME = "resume"  # GET with Last-Event-ID: the events after that id replayed
DELETE = "delete"  # DELETE with the session id: 2xx (or 405: the server keeps sessions)
AFTER_DELETE = "after-delete"  # ping with the deleted session id: 404 expected
# How reports name each request (the main capture is the initialize POST).
LABELS = {
    "initialize": "initialize POST",
    INITIALIZED: "notifications/initialized POST",
    PROBE: f"{PROBE_METHOD} POST",
    WITHOUT_SESSION: f"{PROBE_METHOD} POST without session id",
    RESUME: "GET with Last-Event-ID",
    DELETE: "DELETE",
    AFTER_DELETE: "ping POST after DELETE",
}


@dataclass(frozen=True)
class Exchange:
    """One request of the session and what came back."""

    step: str
    capture: Capture
    rpc_id: int | None = None  # the JSON-RPC id sent (None: a notification, GET or DELETE)
    last_event_id: str | None = None  # what a resume GET sent


@dataclass(frozen=True)
class McpRun:
    """The whole follow-up: the session id the main capture got, then each exchange in order."""

    protocol_version: str
    session_id: str | None
    exchanges: tuple[Exchange, ...] = ()

    def get(self, step: str) -> Exchange | None:
        return next((e for e in self.exchanges if e.step == step), None)

    def requests(self) -> list[tuple[str, Capture]]:
        """Each exchange labelled as reports name it (:data:`LABELS`). Never raises."""
        return [(LABELS.get(e.step, e.step), e.capture) for e in self.exchanges]


def protocol_version(profile: Profile) -> str | None:
    """The MCP-Protocol-Version header the profile sends, or None."""
    lname = VERSION_HEADER.lower()
    return next((v.strip() for k, v in profile.headers if k.lower() == lname), None)


def validate_profile(profile: Profile) -> None:
    """Refuse a protocol version this profile cannot judge (called by Profile.validate).

    Raises ProfileError with one line when the MCP-Protocol-Version header, or the initialize
    body's ``params.protocolVersion``, is missing or not in :data:`SUPPORTED_VERSIONS`.
    """
    supported = ", ".join(SUPPORTED_VERSIONS)
    version = protocol_version(profile)
    if version is None:
        raise ProfileError(f"mcp-streamable-http needs an {VERSION_HEADER} header ({supported})")
    if version not in SUPPORTED_VERSIONS:
        raise ProfileError(
            f"MCP protocol version {version!r} is not supported by the mcp-streamable-http "
            f"profile (supported: {supported})"
        )
    asked = initialize_version(profile.body)
    if asked is not None and asked not in SUPPORTED_VERSIONS:
        raise ProfileError(
            f"the initialize body asks for MCP protocol version {asked!r}, not supported by the "
            f"mcp-streamable-http profile (supported: {supported})"
        )


def initialize_version(body: str | None) -> str | None:
    """``params.protocolVersion`` of a JSON-RPC initialize body, or None."""
    obj = _json(body or "")
    if isinstance(obj, dict) and isinstance(obj.get("params"), dict):
        version = obj["params"].get("protocolVersion")
        return version if isinstance(version, str) else None
    return None


def initialize_id(body: str | None) -> Any:
    obj = _json(body or "")
    return obj.get("id") if isinstance(obj, dict) else None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def rpc_messages(cap: Capture) -> list[tuple[Any, TimedEvent | None]]:
    """The JSON-RPC messages of an answer: each SSE data that parses as JSON (a batch is split),
    or the JSON body itself, with the event that carried it (None for a JSON body)."""
    out: list[tuple[Any, TimedEvent | None]] = []
    if media_type(cap) == "application/json":
        obj = _json(cap.body.decode("utf-8", "replace"))
        for item in obj if isinstance(obj, list) else [obj]:
            if item is not None:
                out.append((item, None))
        return out
    for event in cap.events:
        obj = _json(event.data)
        for item in obj if isinstance(obj, list) else [obj]:
            if item is not None:
                out.append((item, event))
    return out


def response_for(cap: Capture, rpc_id: Any) -> tuple[Any, TimedEvent | None] | None:
    """The JSON-RPC response (result or error) with ``rpc_id`` in an answer, or None."""
    for obj, event in rpc_messages(cap):
        if (
            isinstance(obj, dict)
            and obj.get("id") == rpc_id
            and ("result" in obj or "error" in obj)
        ):
            return obj, event
    return None


def media_type(cap: Capture) -> str:
    value = cap.header("content-type") or ""
    return value.split(";")[0].strip().lower()


def _is_response(rpc_id: int) -> IsLast:
    """The event after which the server should end an answer's stream: the response itself."""

    def is_last(event: Event, index: int) -> bool:
        obj = _json(event.data)
        return isinstance(obj, dict) and obj.get("id") == rpc_id

    return is_last


class _Session:
    """Builds the requests of one run: the user's headers, the session id, the version."""

    def __init__(self, url: str, profile: Profile, session_id: str | None) -> None:
        self.url = url
        self.profile = profile
        self.session_id = session_id
        own = {SESSION_HEADER.lower(), "content-type", "accept", "last-event-id"}
        self.base = tuple((k, v) for k, v in profile.headers if k.lower() not in own)

    def request(
        self,
        method: str,
        body: dict[str, Any] | None = None,
        *,
        with_session: bool = True,
        last_event_id: str | None = None,
    ) -> CaptureRequest:
        headers = list(self.base)
        headers.append(("Accept", "text/event-stream" if method == "GET" else ACCEPT_BOTH))
        if body is not None:
            headers.append(("Content-Type", "application/json"))
        if with_session and self.session_id is not None:
            headers.append((SESSION_HEADER, self.session_id))
        return CaptureRequest(
            url=self.url,
            method=method,
            headers=tuple(headers),
            body=None if body is None else json.dumps(body).encode("utf-8"),
            last_event_id=last_event_id,
        )


def _first_id(cap: Capture) -> str | None:
    """The first event id an SSE answer set (the priming event's, when there is one)."""
    if media_type(cap) != "text/event-stream":
        return None
    return next((e.last_event_id for e in cap.events if e.last_event_id), None)


async def follow_up(target: str, profile: Profile, main: Capture) -> McpRun | None:
    """Continue the session the main capture (``initialize``) opened; None for other contracts.

    Sends, in order: ``notifications/initialized``; ``tools/list`` with the session id; the same
    without it (only when the server gave one); a GET with ``Last-Event-ID`` (only when an SSE
    answer carried event ids, i.e. the server offers resumption); DELETE with the session id,
    then a ``ping`` with the deleted id (only after a 2xx DELETE). Never raises: each exchange is
    a bounded capture whose failures are in its end reason.
    """
    if profile.contract != CONTRACT:
        return None
    version = protocol_version(profile) or SUPPORTED_VERSIONS[0]
    session_id = main.header(SESSION_HEADER) if main.status == 200 else None
    session = _Session(main.url or target, profile, session_id)
    limits = profile.limits
    exchanges: list[Exchange] = []

    async def send(step: str, request: CaptureRequest, rpc_id: int | None = None) -> Capture:
        is_last = _is_response(rpc_id) if rpc_id is not None else None
        # A resumed stream may stay open for later messages: hang up once the replay is in.
        own = dataclasses.replace(limits, close_grace=0.0) if step == RESUME else limits
        cap = await capture(request, own, is_last=is_last)
        exchanges.append(Exchange(step, cap, rpc_id, request.last_event_id))
        return cap

    if main.status != 200:
        return McpRun(version, session_id, ())
    await send(
        INITIALIZED,
        session.request("POST", {"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    probe = {"jsonrpc": "2.0", "id": 2, "method": PROBE_METHOD}
    probe_cap = await send(PROBE, session.request("POST", probe), 2)
    if session_id is not None:
        probe_again = {**probe, "id": 3}
        await send(WITHOUT_SESSION, session.request("POST", probe_again, with_session=False), 3)
    resume_from = _first_id(probe_cap)
    if resume_from is not None:
        await send(RESUME, session.request("GET", last_event_id=resume_from), 2)
    if session_id is not None:
        deleted = await send(DELETE, session.request("DELETE"))
        if deleted.status is not None and 200 <= deleted.status < 300:
            ping = {"jsonrpc": "2.0", "id": 4, "method": "ping"}
            await send(AFTER_DELETE, session.request("POST", ping), 4)
    return McpRun(version, session_id, tuple(exchanges))
