"""Every request of a run beside the main capture, for the JSON and HTML reports: the extra
clients (concurrent, disconnect, reconnect) and the contracts' follow-ups (an MCP session's
requests, graphql-sse's second query), each with what came back.

A verdict such as ``mcp.session-enforced`` or ``reconnect.resume`` is about one of these
requests; listing them lets a reader see the exchange the verdict judged, not only its summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.capture.model import Capture
from conformance.models import Report
from conformance.redaction import redact_headers
from conformance.reports.markup import escape as _e


@dataclass(frozen=True, slots=True)
class OtherRequest:
    source: str  # "concurrent", "reconnect", "mcp", ... (the ``needs`` name that sent it)
    label: str  # "client 2", "tools/list POST without session id", ...
    capture: Capture


def other_requests(report: Report) -> list[OtherRequest]:
    """The extra clients' captures (in the order they ran), then each follow-up's requests.
    Never raises."""
    out: list[OtherRequest] = []
    for source, captures in report.extra_captures.items():
        out.extend(
            OtherRequest(source, f"client {i}", cap) for i, cap in enumerate(captures, start=1)
        )
    for source, record in report.follow_ups.items():
        out.extend(OtherRequest(source, label, cap) for label, cap in record.requests())
    return out


def request_summary(item: OtherRequest) -> dict[str, Any]:
    """The JSON shape of one request: what was sent and what came back (headers redacted; the
    events counted, not copied: the main capture's are the report's ``events``). Never raises."""
    cap = item.capture
    return {
        "source": item.source,
        "label": item.label,
        "method": cap.request.method,
        "url": cap.request.url,
        "request_headers": [list(h) for h in redact_headers(cap.request.wire_headers())],
        "status": cap.status,
        "headers": [list(h) for h in redact_headers(cap.headers)],
        "events": len(cap.events),
        "decoded_bytes": cap.decoded_bytes,
        "end": {
            "reason": str(cap.end_reason),
            "message": cap.end_message,
            "t": round(cap.t_end, 4),
        },
    }


def requests_section(report: Report) -> str:
    """The HTML report's table of the other requests, or "" when there were none. Never raises."""
    items = other_requests(report)
    if not items:
        return ""
    rows = []
    for item in items:
        cap = item.capture
        request = f"{cap.request.method} {cap.request.url}"
        if cap.request.last_event_id is not None:
            request += f" (Last-Event-ID: {cap.request.last_event_id})"
        status = "no response" if cap.status is None else str(cap.status)
        end = str(cap.end_reason) + (f": {cap.end_message}" if cap.end_message else "")
        cells = (item.source, item.label, request, status, len(cap.events), end)
        rows.append("<tr>" + "".join(f"<td class='mono'>{_e(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("by", "request", "sent", "status", "events", "ended"))
    return (
        f"<h2>Other requests ({len(items)})</h2><details>"
        "<summary>the extra clients' and the contract's follow-up requests, and what came back"
        f"</summary><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</details>"
    )
