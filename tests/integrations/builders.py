"""Hand-built captures and reports, for testing report writers without a network or a runner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from conformance.capture import Capture, CaptureRequest, Chunk, EndReason, TimedEvent
from conformance.models import Evidence, Report, Result, Severity, Verdict
from conformance.parser import Event
from conformance.profiles import Profile


def capture_of(
    events: Sequence[tuple[float, str]],
    *,
    url: str = "http://127.0.0.1:9/api/stream",
    end_reason: EndReason = EndReason.CLOSED,
    t_end: float | None = None,
    event_type: str = "message",
) -> Capture:
    """A 200 text/event-stream capture whose body is ``data: <text>\\n\\n`` per (t, text)."""
    cap = Capture(request=CaptureRequest(url=url), url=url, status=200, reason_phrase="OK")
    cap.http_version = "HTTP/1.1"
    cap.headers = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
    cap.t_headers = 0.002
    offset = 0
    for index, (t, text) in enumerate(events):
        raw = f"data: {text}\n\n".encode()
        cap.chunks.append(Chunk(t=t, offset=offset, data=raw, raw_total=offset + len(raw)))
        event = Event(
            type=event_type, data=text, last_event_id="", offset=offset, end=offset + len(raw)
        )
        cap.events.append(TimedEvent(event=event, t=t, index=index))
        offset += len(raw)
    cap.raw_bytes = offset
    cap.t_first_byte = events[0][0] if events else None
    cap.t_end = t_end if t_end is not None else (events[-1][0] + 0.01 if events else 0.01)
    cap.end_reason = end_reason
    cap.line_endings = {"LF": 2 * len(events)} if events else {}
    return cap


def report_of(
    capture: Capture,
    results: Sequence[Result],
    *,
    profile: Profile | None = None,
    extra: dict[str, list[Capture]] | None = None,
) -> Report:
    return Report(
        target=capture.request.url,
        profile=profile or Profile(name="generic"),
        started=datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
        duration_s=capture.t_end,
        results=list(results),
        capture=capture,
        extra_captures=extra or {},
    )


def result(
    check_id: str,
    verdict: Verdict,
    reason: str = "",
    *evidence: Evidence,
    severity: Severity = Severity.MUST,
) -> Result:
    return Result(
        check_id=check_id,
        verdict=verdict,
        reason=reason or f"{check_id} {verdict.value}",
        evidence=tuple(evidence),
        title=f"title of {check_id}",
        severity=severity,
        spec="https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream",
    )
