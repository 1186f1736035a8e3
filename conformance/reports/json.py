"""The JSON report (issue 3 §5 shape, plus evidence and the end of the capture).

Keys required by the issue: target, profile, started, duration_s, exit_code, checks[id, title,
severity, verdict, detail, spec], events[type, data, last_event_id, t], http[status, headers].
Added (never renamed): checks[].evidence, end, capture stats, profile_settings, intermediaries
(the proxies and CDNs the response headers name, :mod:`conformance.intermediaries`), requests
(every other request of the run: extra clients, an MCP session's, :mod:`.requests`), browser
(what ``--browser``'s EventSource dispatched, or null).
"""

from __future__ import annotations

import json
import secrets
from json.encoder import encode_basestring as _string  # what json.dumps(ensure_ascii=False) uses
from pathlib import Path
from typing import Any

from conformance.capture.model import TimedEvent
from conformance.intermediaries import detect
from conformance.models import Report
from conformance.redaction import redact_headers
from conformance.reports.requests import other_requests, request_summary


def report_to_dict(report: Report, *, strict: bool = False, events: bool = True) -> dict[str, Any]:
    """The report as JSON values; ``events=False`` leaves the main capture's events out
    (``"events": []``: :func:`write_json` writes them one by one). Never raises."""
    cap = report.capture
    return {
        "target": report.target,
        "profile": report.profile.name,
        "started": report.started.isoformat(),
        "duration_s": round(report.duration_s, 3),
        "exit_code": report.exit_code(strict),
        "checks": [
            {
                "id": r.check_id,
                "title": r.title,
                "severity": str(r.severity),
                "verdict": str(r.verdict),
                "detail": r.reason,
                "spec": r.spec,
                "evidence": [
                    {"offset": e.offset, "excerpt": e.excerpt, "t": e.t, "label": e.label}
                    for e in r.evidence
                ],
            }
            for r in report.results
        ],
        "events": [
            {"type": e.type, "data": e.data, "last_event_id": e.last_event_id, "t": round(e.t, 4)}
            for e in (cap.events if events else ())
        ],
        "http": {
            "status": cap.status,
            "http_version": cap.http_version,
            "url": cap.url,
            "headers": [list(h) for h in redact_headers(cap.headers)],
            "redirects": [
                {"status": r.status, "url": r.url, "location": r.location} for r in cap.redirects
            ],
        },
        "intermediaries": [{"name": i.name, "header": i.header} for i in detect(cap.headers)],
        "end": {
            "reason": str(cap.end_reason),
            "message": cap.end_message,
            "t": round(cap.t_end, 4),
        },
        "capture": {
            "decoded_bytes": cap.decoded_bytes,
            "raw_bytes": cap.raw_bytes,
            "content_encoding": cap.content_encoding,
            "chunks": len(cap.chunks),
            "line_endings": cap.line_endings,
            "comments": cap.comments,
            "retry": cap.retry,
            "observations_dropped": cap.observations_dropped,
        },
        "requests": [request_summary(item) for item in other_requests(report)],
        "browser": _browser(report),
        "profile_settings": report.profile.summary(),
    }


def _browser(report: Report) -> dict[str, Any] | None:
    """What Chromium's EventSource did (--browser), or None without one. Never raises."""
    run = report.browser
    if run is None:
        return None
    return {
        "page_url": run.page_url,
        "stream_url": run.stream_url,
        "with_credentials": run.with_credentials,
        "status": run.status,
        "opened": run.opened,
        "closed_by": str(run.closed_by),
        "problem": run.problem,
        "states": [{"event": s.event, "ready_state": s.ready_state, "t": s.t} for s in run.states],
        "console": list(run.console),
        "events": [
            {"type": e.type, "data": e.data, "last_event_id": e.last_event_id, "t": round(e.t, 4)}
            for e in run.events
        ],
    }


_DEL_AND_C1 = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def _event_item(event: TimedEvent) -> str:
    """One element of ``events`` as ``json.dumps(..., indent=2)`` writes it in the report."""
    return (
        f'    {{\n      "type": {_string(event.type)},\n      "data": {_string(event.data)},\n'
        f'      "last_event_id": {_string(event.last_event_id)},\n'
        f'      "t": {json.dumps(round(event.t, 4))}\n    }}'
    )


def write_json(report: Report, path: str | Path, *, strict: bool = False) -> None:
    """Write the JSON report to ``path`` (its folder created). The main capture's events are
    written one by one, never as one text (a million events are a 100 MB report, and were
    1.3 GB of memory as one); the file is the same as ``json.dumps(report_to_dict(report),
    indent=2, ensure_ascii=False)``, DEL and C1 escaped. Raises OSError when it cannot write."""
    marker = f"events-{secrets.token_hex(16)}"  # unguessable: no server text can contain it
    data = report_to_dict(report, strict=strict, events=False)
    data["events"] = marker
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    # json escapes C0 itself; DEL and C1 only appear inside strings, where \uNNNN is the same value
    head, tail = text.translate(_DEL_AND_C1).split(f'"{marker}"', 1)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        out.write(head)
        events = report.capture.events
        if not events:
            out.write("[]")
        else:
            out.write("[\n")
            for i, event in enumerate(events):
                out.write((",\n" if i else "") + _event_item(event).translate(_DEL_AND_C1))
            out.write("\n  ]")
        out.write(tail + "\n")
