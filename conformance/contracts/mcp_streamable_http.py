"""MCP Streamable HTTP (the ``mcp-streamable-http`` profile, protocol versions 2025-11-25, 2025-06-18).

Why checks of their own: agents talk to MCP servers over one HTTP endpoint, and what breaks them is
the session, not the SSE framing: a server that gives no ``Mcp-Session-Id``, accepts requests
without it, answers with a content type the client cannot read, loses the JSON-RPC id, sets event
ids it cannot resume from, or keeps answering a session after DELETE. The main capture is the
``initialize`` POST; :mod:`conformance.contracts.mcp_session` then drives the rest of the session
once and records it, and these checks judge that record (``CheckContext.extra["mcp"]``).

A server may answer a POST with ``application/json`` instead of a stream: the profile sets the
``json_answer_ok`` option, so the generic SSE checks skip such an answer with a reason and the
checks here judge the JSON. Runs only when the profile sets ``contract = "mcp-streamable-http"``.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.capture.model import Capture
from conformance.checks.context import CheckContext, plural
from conformance.checks.registry import check
from conformance.contracts.mcp_session import (
    AFTER_DELETE,
    CONTRACT,
    DELETE,
    INITIALIZED,
    LABELS,
    PROBE,
    PROBE_METHOD,
    RESUME,
    SESSION_HEADER,
    SUPPORTED_VERSIONS,
    WITHOUT_SESSION,
    Exchange,
    McpRun,
    initialize_id,
    media_type,
    response_for,
    rpc_messages,
    validate_profile,
)
from conformance.evidence import escape_excerpt
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped, warning

__all__ = ["validate_profile"]  # Profile.validate calls it through the contract name

SPEC = "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports"
SPEC_SENDING = f"{SPEC}#sending-messages-to-the-server"
SPEC_SESSION = f"{SPEC}#session-management"
SPEC_RESUME = f"{SPEC}#resumability-and-redelivery"
SPEC_LIFECYCLE = "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle"
ANSWER_TYPES = ("application/json", "text/event-stream")
SESSIONS_OPTION = "sessions"  # [options] sessions = false: a stateless server is expected
MAIN = "initialize"


def _answers(ctx: CheckContext, run: McpRun | None) -> list[tuple[str, Capture]]:
    """Every answer of the session, the main capture first, labelled by step."""
    out = [(MAIN, ctx.capture)]
    if run is not None:
        out += [(e.step, e.capture) for e in run.exchanges]
    return out


def _evidence(label: str, cap: Capture, what: str = "") -> Evidence:
    """Where in the session: the step, its status line, content type and a body excerpt."""
    status = "no response" if cap.status is None else f"{cap.status} {cap.reason_phrase}".strip()
    ctype = cap.header("content-type")
    text = f"{status}; Content-Type: {ctype}" if ctype else status
    if what:
        text += f"; {what}"
    elif cap.body:
        text += f"; body: {escape_excerpt(cap.body, 80)}"
    return Evidence(None, text, cap.t_end, LABELS.get(label, label))


def _context(ctx: CheckContext) -> Outcome | McpRun:
    """The session record, or the skip that explains why there is none."""
    if ctx.profile.contract != CONTRACT:
        return skipped("not an MCP server (profile contract mcp-streamable-http)")
    cap = ctx.capture
    if cap.status is None:
        return skipped(f"no answer to initialize ({cap.end_reason}); http.status reports it")
    run = ctx.extra.get("mcp")
    if not isinstance(run, McpRun):
        return skipped("the MCP session was not driven (no mcp.* follow-up ran)")
    return run


def _step(run: McpRun, step: str) -> Exchange | None:
    return run.get(step)


@check(
    "mcp.content-type",
    "Every answer has a content type an MCP client reads",
    SPEC_SENDING,
    Severity.MUST,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or no answer. pass: every 200 answer to a POST
    is `application/json` or `text/event-stream` (both are valid; the client sent
    `Accept: application/json, text/event-stream`), and a resumed GET stream is
    `text/event-stream`. fail: any other type, or none (the client cannot read the JSON-RPC
    response); the reason names the request.""",
)
def content_type(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    bad: list[Evidence] = []
    seen: list[str] = []
    for label, cap in _answers(ctx, run):
        if cap.status != 200 or label not in (MAIN, PROBE, WITHOUT_SESSION, RESUME):
            continue  # 202, DELETE and error answers carry no JSON-RPC response to read
        allowed = ("text/event-stream",) if label == RESUME else ANSWER_TYPES
        kind = media_type(cap)
        seen.append(f"{LABELS[label]}: {kind or '(none)'}")
        if kind not in allowed:
            bad.append(_evidence(label, cap, f"not {' or '.join(allowed)}"))
    if bad:
        return problem(
            f"{plural(len(bad), 'answer')} with a content type an MCP client cannot read "
            f"(first: {bad[0].label})",
            *bad,
        )
    return passed("; ".join(seen))


@check(
    "mcp.initialize",
    "initialize is answered with a supported protocol version; initialized is accepted",
    f"{SPEC_LIFECYCLE}#initialization",
    Severity.MUST,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or no answer. pass: the initialize POST got
    200 with the JSON-RPC result of its id, whose `protocolVersion` the profile supports
    (2025-11-25, 2025-06-18), and `notifications/initialized` got 202 Accepted. fail: another
    status, a JSON-RPC error, no response with that id, an unsupported or missing version (the
    client must disconnect), or the notification not answered with 202.""",
)
def initialize(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    cap = ctx.capture
    if cap.status != 200:
        return problem(f"initialize got status {cap.status}, not 200", _evidence(MAIN, cap))
    rpc_id = initialize_id(ctx.profile.body)
    found = response_for(cap, rpc_id)
    if found is None:
        return problem(
            f"no JSON-RPC response with id {rpc_id!r} in the initialize answer",
            _evidence(MAIN, cap),
        )
    obj, _ = found
    if "error" in obj:
        return problem(f"initialize failed: {_error_text(obj['error'])}", _evidence(MAIN, cap))
    result = obj.get("result")
    version = result.get("protocolVersion") if isinstance(result, dict) else None
    if version not in SUPPORTED_VERSIONS:
        return problem(
            f"the server answered protocolVersion {version!r}: not one this profile supports "
            f"({', '.join(SUPPORTED_VERSIONS)})",
            _evidence(MAIN, cap),
        )
    note = "" if version == run.protocol_version else f" (asked for {run.protocol_version})"
    done = _step(run, INITIALIZED)
    if done is None or done.capture.status != 202:
        where = [_evidence(INITIALIZED, done.capture)] if done is not None else []
        status = done.capture.status if done is not None else "nothing"
        return problem(
            f"notifications/initialized got {status}, not 202 Accepted (a notification has no "
            "response)",
            *where,
        )
    return passed(f"protocolVersion {version}{note}; notifications/initialized got 202")


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return f"{error.get('code')} {error.get('message')!r}"
    return repr(error)


@check(
    "mcp.session",
    "initialize returns an Mcp-Session-Id that the server then honours",
    SPEC_SESSION,
    Severity.MUST,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, no 200 initialize answer, or the profile
    expects a stateless server (`[options] sessions = false`). pass: the initialize answer has an
    `Mcp-Session-Id` of visible ASCII characters, and a tools/list request carrying it got 200.
    fail: no session id (the profile expects a stateful server), one with other characters, or the
    server refused its own id.""",
)
def session(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    if ctx.profile.options.get(SESSIONS_OPTION) is False:
        return skipped("a stateless server is expected ([options] sessions = false)")
    cap = ctx.capture
    if cap.status != 200:
        return skipped(f"initialize got status {cap.status} (mcp.initialize)")
    sid = run.session_id
    if sid is None:
        return problem(
            f"no {SESSION_HEADER} header in the initialize answer: the client cannot keep a "
            "session (a stateless server: set [options] sessions = false)",
            _evidence(MAIN, cap, f"(no {SESSION_HEADER} header)"),
        )
    if not sid or any(not 0x21 <= ord(c) <= 0x7E for c in sid):
        return problem(
            f"{SESSION_HEADER} {escape_excerpt(sid.encode('utf-8', 'replace'), 40)!r} has characters "
            "outside visible ASCII (0x21-0x7E)",
            _evidence(MAIN, cap, f"{SESSION_HEADER}: {escape_excerpt(sid.encode(), 60)}"),
        )
    probe = _step(run, PROBE)
    if probe is None or probe.capture.status != 200:
        status = probe.capture.status if probe is not None else "nothing"
        where = [_evidence(PROBE, probe.capture)] if probe is not None else []
        return problem(f"{PROBE_METHOD} with the session id got {status}, not 200", *where)
    return passed(f"{SESSION_HEADER} of {len(sid)} characters, accepted on {PROBE_METHOD}")


@check(
    "mcp.session-enforced",
    "A request without the session id gets 400",
    SPEC_SESSION,
    Severity.SHOULD,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or the server gave no session id. pass: a
    tools/list request without `Mcp-Session-Id` got 400 Bad Request. warn: any other status (2xx:
    the server answered outside any session, so its sessions protect nothing).""",
)
def session_enforced(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    ex = _step(run, WITHOUT_SESSION)
    if run.session_id is None or ex is None:
        return skipped("no session id to leave out (mcp.session)")
    status = ex.capture.status
    if status == 400:
        return passed(f"{PROBE_METHOD} without {SESSION_HEADER}: 400")
    if status is not None and 200 <= status < 300:
        return warning(
            f"{PROBE_METHOD} without {SESSION_HEADER} got {status}: the session is not enforced "
            "(should be 400)",
            _evidence(WITHOUT_SESSION, ex.capture),
        )
    return warning(
        f"{PROBE_METHOD} without {SESSION_HEADER} got {status}, not 400",
        _evidence(WITHOUT_SESSION, ex.capture),
    )


@check(
    "mcp.response-id",
    "A request's answer carries the JSON-RPC response with its id",
    SPEC_SENDING,
    Severity.MUST,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or the tools/list request did not get 200
    (mcp.session) or got an unreadable type (mcp.content-type). pass: the answer (a JSON body, or
    one SSE event of the stream) holds a JSON-RPC response (`result` or `error`) with the
    request's id, and every non-empty SSE data is JSON. fail: no response with that id, or an SSE
    data that is not JSON (the client drops the message).""",
)
def response_id(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    ex = _step(run, PROBE)
    if ex is None or ex.capture.status != 200:
        status = "nothing" if ex is None else ex.capture.status
        return skipped(f"{PROBE_METHOD} got {status} (mcp.session)")
    cap = ex.capture
    kind = media_type(cap)
    if kind not in ANSWER_TYPES:
        return skipped(f"{PROBE_METHOD} answered {kind or 'no type'} (mcp.content-type)")
    if kind == "text/event-stream":
        junk = [e for e in cap.events if e.data and not _is_json(e.data)]
        if junk:
            first = junk[0]
            return problem(
                f"{plural(len(junk), 'SSE data')} of the {PROBE_METHOD} answer not JSON; event "
                f"{first.index + 1}",
                _evidence(
                    PROBE, cap, f"@{first.offset}: {escape_excerpt(first.data.encode(), 60)}"
                ),
            )
    found = response_for(cap, ex.rpc_id)
    if found is None:
        ids = sorted({repr(o.get("id")) for o, _ in rpc_messages(cap) if isinstance(o, dict)})
        seen = f"ids seen: {', '.join(ids)}" if ids else "no JSON-RPC message at all"
        return problem(
            f"no JSON-RPC response with id {ex.rpc_id} in the {PROBE_METHOD} answer ({seen}; "
            f"ended: {cap.end_reason})",
            _evidence(PROBE, cap),
        )
    _, event = found
    where = "the JSON body" if event is None else f"SSE event {event.index + 1}"
    return passed(f"{PROBE_METHOD} id {ex.rpc_id} answered in {where}")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _streams(ctx: CheckContext, run: McpRun) -> list[tuple[str, Capture]]:
    """The SSE answers to POSTs (initialize and tools/list)."""
    return [
        (label, cap)
        for label, cap in _answers(ctx, run)
        if label in (MAIN, PROBE) and cap.status == 200 and media_type(cap) == "text/event-stream"
    ]


@check(
    "mcp.priming",
    "An SSE answer with event ids starts with a priming event",
    SPEC_SENDING,
    Severity.SHOULD,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, protocol 2025-06-18 (priming came with
    2025-11-25), only JSON answers, or no event ids at all (the server offers no resumption, which
    is optional). pass: each SSE answer that uses ids starts with an event that has an id and empty
    data, so a client that loses the connection before the response can resume. warn: an answer
    that uses ids and starts with something else.""",
)
def priming(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    if run.protocol_version != "2025-11-25":
        return skipped(f"protocol {run.protocol_version}: priming events came with 2025-11-25")
    streams = _streams(ctx, run)
    if not streams:
        return skipped("no SSE answer (JSON answers need no priming)")
    with_ids = [(label, cap) for label, cap in streams if any(e.last_event_id for e in cap.events)]
    if not with_ids:
        return skipped("no event ids: the server offers no resumption (optional), nothing to prime")
    bad = [
        (label, cap)
        for label, cap in with_ids
        if not cap.events or cap.events[0].data != "" or not cap.events[0].last_event_id
    ]
    if bad:
        label, cap = bad[0]
        first = cap.events[0] if cap.events else None
        shown = escape_excerpt(cap.excerpt_at(first.offset, 60), 60) if first else "no event"
        return warning(
            f"{plural(len(bad), 'SSE answer')} with event ids not starting with a priming event "
            f"(an id and empty data); first: {LABELS[label]}",
            _evidence(label, cap, f"first event: {shown}"),
        )
    names = ", ".join(LABELS[label] for label, _ in with_ids)
    return passed(f"{names}: primed (id + empty data first)")


@check(
    "mcp.retry",
    "A server that closes a stream before its response sends retry first",
    SPEC_SENDING,
    Severity.SHOULD,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or every SSE answer carried its response
    before it ended. pass: each SSE answer the server closed before the response had a `retry`
    field first (the client knows when to resume). warn: one closed without `retry`.""",
)
def retry(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    probe = _step(run, PROBE)
    ids = {MAIN: initialize_id(ctx.profile.body), PROBE: probe.rpc_id if probe else None}
    early = [
        (label, cap)
        for label, cap in _streams(ctx, run)
        if cap.end_reason.by_server and response_for(cap, ids[label]) is None
    ]
    if not early:
        return skipped("every SSE answer carried its response before it ended")
    missing = [(label, cap) for label, cap in early if cap.retry is None]
    if missing:
        label, cap = missing[0]
        return warning(
            f"{LABELS[label]}: the server closed the stream before the response without a retry field "
            "(the client cannot tell when to resume)",
            _evidence(label, cap, f"ended: {cap.end_reason}"),
        )
    return passed(
        ", ".join(f"{LABELS[label]}: retry {cap.retry} ms before the close" for label, cap in early)
    )


@check(
    "mcp.resume",
    "A GET with Last-Event-ID resumes the stream",
    SPEC_RESUME,
    Severity.SHOULD,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or no SSE answer set an event id (the server
    offers no resumption, which is optional). pass: a GET with the session id and the first event
    id of the tools/list stream as `Last-Event-ID` got 200 `text/event-stream`, replaying the
    tools/list response when it came after that id. warn: another status (405: the server sets ids
    it cannot resume from), another type, or the response not replayed.""",
)
def resume(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    ex = _step(run, RESUME)
    probe = _step(run, PROBE)
    if ex is None or probe is None:
        return skipped("no event id in the tools/list answer: resumption not offered (optional)")
    cap = ex.capture
    if cap.status != 200 or media_type(cap) != "text/event-stream":
        return warning(
            f"GET with Last-Event-ID {ex.last_event_id!r} got {cap.status} "
            f"{media_type(cap) or ''}: the stream cannot be resumed from its own event ids".strip(),
            _evidence(RESUME, cap),
        )
    original = response_for(probe.capture, probe.rpc_id)
    event = original[1] if original is not None else None
    after = event is not None and event.last_event_id != ex.last_event_id
    if after and response_for(cap, probe.rpc_id) is None:
        return warning(
            f"resumed after {ex.last_event_id!r}, but the {PROBE_METHOD} response (sent after that "
            f"id) was not replayed ({plural(len(cap.events), 'event')}; ended: {cap.end_reason})",
            _evidence(RESUME, cap),
        )
    replayed = "the response replayed" if after else "nothing left to replay"
    return passed(f"GET with Last-Event-ID {ex.last_event_id!r}: 200 text/event-stream, {replayed}")


@check(
    "mcp.delete",
    "DELETE ends the session; its id then gets 404",
    SPEC_SESSION,
    Severity.MUST,
    needs=("mcp",),
    reads="the `initialize` exchange (the main connection) and the session the suite drives after it: initialized, tools/list with and without the session id, GET with Last-Event-ID, DELETE",
    doc="""skip: not the mcp-streamable-http profile, or no session id. pass: DELETE with the
    session id got 2xx and a later request with that id got 404 Not Found, or DELETE got 405 (the
    server does not let clients end sessions: allowed). fail: DELETE got another status, or the
    deleted session still answered (the server MUST answer 404 for a terminated session).""",
)
def delete(ctx: CheckContext) -> Outcome:
    run = _context(ctx)
    if isinstance(run, Outcome):
        return run
    ex = _step(run, DELETE)
    if run.session_id is None or ex is None:
        return skipped("no session id to end (mcp.session)")
    status = ex.capture.status
    if status == 405:
        return passed("DELETE got 405: the server does not let clients end sessions (allowed)")
    if status is None or not 200 <= status < 300:
        return problem(f"DELETE with the session id got {status}", _evidence(DELETE, ex.capture))
    after = _step(run, AFTER_DELETE)
    if after is None:
        return problem("no request was sent after DELETE (suite bug)")
    if after.capture.status != 404:
        return problem(
            f"after DELETE ({status}), a ping with the ended session id got "
            f"{after.capture.status}, not 404: the session was not ended",
            _evidence(AFTER_DELETE, after.capture),
        )
    return passed(f"DELETE got {status}; the ended session id then got 404")
