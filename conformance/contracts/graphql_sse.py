"""GraphQL over SSE, "distinct connections" mode of the graphql-sse protocol (``graphql-sse`` profile).

Why checks of their own: a GraphQL subscription over SSE is valid SSE and still breaks its clients
(graphql-sse's ``createClient``, urql, Apollo links) when a result is not sent as an ``event: next``
whose data is an execution result (``{"data": ...}`` and/or ``{"errors": [...]}``), when the
operation never ends with ``event: complete`` (the client cannot tell the end from a network cut
and retries), or when a query that fails validation is refused with a 4xx instead of being
reported as a ``next`` event (the client shows a network error instead of the GraphQL errors).

The main capture is the profile's subscription; one follow-up POST sends a query that no schema
validates (``[options] invalid_query``) and records the answer for graphql.errors-as-next. Runs
only when the profile sets ``contract = "graphql-sse"``.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.checks.context import MAX_EVIDENCE, CheckContext, event_evidence, plural
from conformance.checks.registry import check
from conformance.contracts.graphql_session import CONTRACT, GraphqlRun
from conformance.evidence import escape_excerpt
from conformance.models import Evidence, Outcome, Severity, passed, problem, skipped

SPEC = "https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md"
SPEC_DISTINCT = f"{SPEC}#distinct-connections-mode"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _stream(ctx: CheckContext) -> Outcome | None:
    if ctx.profile.contract != CONTRACT:
        return skipped("not a graphql-sse stream (profile contract graphql-sse)")
    if ctx.capture.status != 200:
        return skipped("no 200 stream to judge (http.status)")
    return None


def result_problem(data: str) -> str | None:
    """Why ``data`` is not a GraphQL execution result, or None when it is."""
    obj = _json(data)
    if obj is None and data.strip() != "null":
        return "not JSON"
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    if "data" not in obj and "errors" not in obj:
        return "neither 'data' nor 'errors'"
    errors = obj.get("errors")
    if errors is not None and not (isinstance(errors, list) and errors):
        return "'errors' is not a non-empty list"
    return None


@check(
    "graphql.next",
    "Every result is an `event: next` with an execution result",
    SPEC_DISTINCT,
    Severity.MUST,
    reads="every event of the main connection (the subscription)",
    doc="""skip: not the graphql-sse profile, or no 200 stream. pass: at least one event, and every
    event before `complete` is named `next` with a JSON object holding `data` and/or a non-empty
    `errors` list. fail: no `next` event, an event of another name (graphql-sse clients drop it),
    or a data that is not such an object.""",
)
def next_events(ctx: CheckContext) -> Outcome:
    if (early := _stream(ctx)) is not None:
        return early
    cap = ctx.capture
    results = [e for e in cap.events if e.type != "complete"]
    if not results:
        return problem(f"no next event ({plural(len(cap.events), 'event')} in all)")
    bad = []
    for event in results:
        if event.type != "next":
            bad.append((event, f"named {event.type!r}, not 'next'"))
        elif (why := result_problem(event.data)) is not None:
            bad.append((event, why))
    if bad:
        first, why = bad[0]
        return problem(
            f"{len(bad)} of {len(results)} results are not usable next events; event "
            f"{first.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    return passed(f"{plural(len(results), 'next event')}, each an execution result")


@check(
    "graphql.complete",
    "The operation ends with `event: complete`, last",
    SPEC_DISTINCT,
    Severity.MUST,
    reads="every event of the main connection (the subscription)",
    doc="""skip: not the graphql-sse profile, or no 200 stream. pass: exactly one `complete`
    event and it is the last. fail: none (the client cannot tell the end of the operation from a
    network cut and reconnects), more than one, or events after it.""",
)
def complete(ctx: CheckContext) -> Outcome:
    if (early := _stream(ctx)) is not None:
        return early
    cap = ctx.capture
    hits = [e for e in cap.events if e.type == "complete"]
    if not hits:
        ended = f"{cap.end_reason}" + (f": {cap.end_message}" if cap.end_message else "")
        evidence = [event_evidence(cap, cap.events[-1])] if cap.events else []
        return problem(
            f"no complete event after {plural(len(cap.events), 'event')} (capture ended: {ended})",
            *evidence,
        )
    if len(hits) > 1 or hits[0].index != len(cap.events) - 1:
        after = cap.events[hits[0].index + 1 :]
        return problem(
            f"complete is event {hits[0].index + 1} of {len(cap.events)}: "
            f"{plural(len(after), 'event')} after it",
            *(event_evidence(cap, e) for e in [hits[0], *after][:MAX_EVIDENCE]),
        )
    return passed(f"event {hits[0].index + 1} (the last) is complete; ended: {cap.end_reason}")


@check(
    "graphql.errors-as-next",
    "A query that fails validation is reported as a `next` event, not a 4xx",
    SPEC_DISTINCT,
    Severity.MUST,
    needs=("graphql",),
    reads="the follow-up POST of a query no schema validates (its status and events)",
    doc="""skip: not the graphql-sse profile, or the follow-up did not run. pass: a POST of a
    query no schema validates (`[options] invalid_query`) with `Accept: text/event-stream` got 200
    `text/event-stream` with a `next` event whose data has a non-empty `errors` list. fail: a 4xx
    or 5xx (the client reports a network error, not the GraphQL errors), another content type, or
    no `next` event with `errors`.""",
)
def errors_as_next(ctx: CheckContext) -> Outcome:
    if ctx.profile.contract != CONTRACT:
        return skipped("not a graphql-sse stream (profile contract graphql-sse)")
    run = ctx.extra.get("graphql")
    if not isinstance(run, GraphqlRun):
        return skipped("the invalid-query follow-up did not run")
    cap = run.capture
    label = "invalid-query POST"
    ctype = cap.header("content-type") or ""
    head = f"{cap.status} {cap.reason_phrase}; Content-Type: {ctype or '(none)'}"
    where = Evidence(None, f"{head}; body: {escape_excerpt(cap.body, 80)}", cap.t_end, label)
    if cap.status != 200:
        return problem(
            f"a query that fails validation got status {cap.status}: clients report a network "
            "error, not the GraphQL errors",
            where,
        )
    if ctype.split(";")[0].strip().lower() != "text/event-stream":
        return problem(f"a query that fails validation got {ctype or 'no type'}", where)
    for event in cap.events:
        obj = _json(event.data)
        if event.type == "next" and isinstance(obj, dict) and obj.get("errors"):
            first = obj["errors"][0] if isinstance(obj["errors"], list) else obj["errors"]
            message = first.get("message") if isinstance(first, dict) else first
            return passed(f"reported in next event {event.index + 1}: {message!r}")
    return problem(
        f"no next event with errors in the answer to a query that fails validation "
        f"({plural(len(cap.events), 'event')})",
        where,
    )
