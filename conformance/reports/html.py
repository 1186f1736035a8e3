"""``--html-report FILE``: one self-contained page a person can open from a CI artifact.

Why HTML next to JSON and JUnit: those say *that* a check failed; the page also shows *why* at a
glance. The timeline (arrival time across, event index up) makes a buffering proxy a vertical
cliff at the end, a stall a flat step, a wrong cadence a slope off the dashed expected line.

Self-contained on purpose: CI artifact viewers and air-gapped machines load no CDN, so the page has
inline CSS, an inline SVG drawn here, and no script at all. Everything from the server is escaped
(an SSE body is untrusted text and would otherwise inject markup into the report).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from conformance.capture.event_log import time_runs
from conformance.capture.model import EndReason
from conformance.evidence import escape_excerpt
from conformance.intermediaries import detect
from conformance.models import Evidence, Result, Verdict
from conformance.redaction import redact_headers
from conformance.reports.browser_columns import browser_section
from conformance.reports.markup import escape as _e
from conformance.reports.requests import requests_section

if TYPE_CHECKING:
    from conformance.capture.model import Capture
    from conformance.models import Report

T = TypeVar("T")

CADENCE = "#1a7f37"  # the expected-cadence line: not the main stream's blue, not the others' ochre
MAX_EVENT_ROWS = 300  # rows of the event table; the timeline always shows the whole stream
MAX_POINTS = 1500  # markers in the SVG (evenly thinned above that; the line keeps its shape)
MAX_CHUNK_TICKS = 3000
MAX_LAUNCH_OUTPUT = 64 * 1024

VERDICT_ORDER = {Verdict.FAIL: 0, Verdict.WARN: 1, Verdict.PASS: 2, Verdict.SKIP: 3}
COLOURS = {
    Verdict.PASS: "#1a7f37",
    Verdict.WARN: "#9a6700",
    Verdict.FAIL: "#cf222e",
    Verdict.SKIP: "#6e7781",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;
padding:0 16px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;
padding-bottom:4px} code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;
font-size:12.5px} pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:420px;margin:4px 0}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:4px 8px;border-bottom:1px solid
#eaeef2;vertical-align:top} th{background:#f6f8fa;font-weight:600}
.badge{display:inline-block;min-width:38px;text-align:center;border-radius:10px;padding:0 8px;color:#fff;
font-size:12px;font-weight:600;text-transform:uppercase}
.banner{border-radius:6px;padding:10px 14px;margin:12px 0;color:#fff;font-weight:600;font-size:16px}
.meta{color:#57606a} .meta span{margin-right:18px} .ev{margin:0 0 14px} .ev h3{font-size:14px;margin:0 0 4px}
.reason{margin:2px 0 6px} .off{color:#57606a;white-space:nowrap} svg text{font-family:system-ui,sans-serif}
details{margin:8px 0} summary{cursor:pointer;font-weight:600}
tr.fail td:first-child{border-left:3px solid #cf222e} tr.warn td:first-child{border-left:3px solid #9a6700}
"""


def _badge(verdict: Verdict) -> str:
    return f'<span class="badge" style="background:{COLOURS[verdict]}">{_e(verdict.value)}</span>'


def render_html(report: Report, *, launch_output: str | None = None, strict: bool = False) -> str:
    """The whole page as one string (no external references)."""
    exit_code = report.exit_code(strict)
    counts = report.counts()
    cap = report.capture
    if report.unreachable:
        banner = ("#6e7781", f"UNREACHABLE: {cap.end_message or cap.end_reason}")
    elif exit_code == 0:
        banner = (COLOURS[Verdict.PASS], "PASS: no check failed")
    else:
        failing = counts[Verdict.FAIL] + (counts[Verdict.WARN] if strict else 0)
        banner = (COLOURS[Verdict.FAIL], f"FAIL: {failing} check(s) did not pass")
    tally = ", ".join(
        f"{counts[v]} {v.value}" for v in (Verdict.FAIL, Verdict.WARN, Verdict.PASS, Verdict.SKIP)
    )
    profile = report.profile
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SSE conformance: {_e(report.target)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>SSE conformance report</h1>",
        '<div class="meta">',
        f"<span>target <code>{_e(report.target)}</code></span>",
        f"<span>profile <b>{_e(profile.name)}</b>"
        + (f" <span class='mono'>({_e(profile.source)})</span>" if profile.source else "")
        + "</span>",
        f"<span>started {_e(report.started.isoformat(timespec='seconds'))}</span>",
        f"<span>duration {report.duration_s:.2f} s</span>",
        f"<span>exit code {exit_code}</span>",
        "</div>",
        f'<div class="banner" style="background:{banner[0]}">{_e(banner[1])}'
        f' <span style="font-weight:400">({_e(tally)})</span></div>',
        _verdict_table(report.results),
        _problems(report.results),
        "<h2>Timeline of event arrivals</h2>",
        _timeline_caption(cap, profile.interval),
        timeline_svg(cap, interval=profile.interval, extra=report.extra_captures),
        _legend(
            bool(profile.interval and cap.events),
            any(k != "reconnect" for k in report.extra_captures),
            "reconnect" in report.extra_captures,
        ),
        _http_section(cap),
        _events_table(cap),
        requests_section(report),
        browser_section(report),
    ]
    if launch_output is not None:
        parts.append(_launch_section(launch_output))
    parts.append(_profile_section(report))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html_report(
    report: Report, path: str | Path, *, launch_output: str | None = None, strict: bool = False
) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        render_html(report, launch_output=launch_output, strict=strict), encoding="utf-8"
    )


def _sorted(results: Iterable[Result]) -> list[Result]:
    return sorted(results, key=lambda r: VERDICT_ORDER[r.verdict])


def _verdict_table(results: Sequence[Result]) -> str:
    rows = []
    for r in _sorted(results):
        spec = f' <a href="{_e(r.spec)}" title="spec">§</a>' if r.spec else ""
        link = (
            f'<a href="#{_e(_anchor(r.check_id))}">{_e(r.check_id)}</a>'
            if r.verdict
            in (
                Verdict.FAIL,
                Verdict.WARN,
            )
            else _e(r.check_id)
        )
        rows.append(
            f'<tr class="{_e(r.verdict.value)}"><td class="mono" style="white-space:nowrap">{link}</td><td>{_badge(r.verdict)}</td>'
            f"<td>{_e(r.severity.value)}</td><td>{_e(r.title)}{spec}</td><td>{_e(r.reason)}</td></tr>"
        )
    return (
        "<h2>Checks</h2><table><thead><tr><th>check</th><th>verdict</th><th>severity</th>"
        "<th>what</th><th>reason</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _anchor(check_id: str) -> str:
    return "check-" + "".join(c if c.isalnum() else "-" for c in check_id)


def _problems(results: Sequence[Result]) -> str:
    bad = [r for r in _sorted(results) if r.verdict in (Verdict.FAIL, Verdict.WARN)]
    if not bad:
        return "<h2>Failures and warnings</h2><p>None.</p>"
    blocks = []
    for r in bad:
        evidence = "".join(
            f'<tr><td class="off">{_e(_place(ev))}</td>'
            f'<td><pre style="margin:0;max-height:none">{_e(ev.excerpt)}</pre></td></tr>'
            for ev in r.evidence
        )
        table = (
            f'<table><thead><tr><th style="width:150px">where</th><th>evidence (bytes escaped: \\n is LF, \\r CR, \\xNN a raw byte)</th></tr></thead>'
            f"<tbody>{evidence}</tbody></table>"
            if evidence
            else "<p class='meta'>(no byte evidence: see the reason)</p>"
        )
        blocks.append(
            f'<div class="ev" id="{_e(_anchor(r.check_id))}"><h3>{_badge(r.verdict)} '
            f"<code>{_e(r.check_id)}</code> {_e(r.title)}</h3>"
            f'<div class="reason">{_e(r.reason)}</div>{table}</div>'
        )
    return "<h2>Failures and warnings</h2>" + "".join(blocks)


def _place(ev: Evidence) -> str:
    """Where and when, as :meth:`Evidence.describe` says it (``@1234 t=0.5s``, ``[client 2]``,
    ``@http``): its text without the excerpt, so every report names a place the same way."""
    text = ev.describe()
    tail = ": " + ev.excerpt
    return text[: -len(tail)] if text.endswith(tail) else text


def _timeline_caption(cap: Capture, interval: float | None) -> str:
    n = len(cap.events)
    expected = (
        f" The dashed line is the expected cadence (one event per {interval:g} s from the first)."
        if interval
        else ""
    )
    return (
        f'<p class="meta">{n} events; each dot is one event at the time its last byte arrived; '
        "ticks under the axis are the network reads (chunks). A stream that was buffered shows "
        f"as a vertical cliff at the end, a stall as a flat step.{_e(expected)}</p>"
    )


@dataclass(frozen=True)
class _Frame:
    left: float = 56
    right: float = 24
    top: float = 34  # room for the marker labels (headers, end) above the plot, off the lines
    bottom: float = 58
    width: float = 1000
    height: float = 340

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom


def _nice_step(span: float, target: int = 8) -> float:
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10.0 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def timeline_svg(
    cap: Capture,
    *,
    interval: float | None = None,
    extra: dict[str, list[Capture]] | None = None,
) -> str:
    """The arrival timeline: x = seconds since the request, y = event index (0-based)."""
    f = _Frame()
    events = cap.events
    t_max = max(
        [cap.t_end, *(t for t, _, _ in time_runs(events)), *(c.t for c in cap.chunks[-1:]), 0.001]
        + [_offset(cap, c) + c.t_end for group in (extra or {}).values() for c in group]
    )
    n_max = max([len(events), *(len(c.events) for g in (extra or {}).values() for c in g), 1])
    t_max *= 1.03

    def x(t: float) -> float:
        return f.left + f.plot_w * t / t_max

    def y(i: float) -> float:
        return f.top + f.plot_h - f.plot_h * i / max(n_max - 1, 1)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {f.width:g} {f.height:g}" '
        f'width="100%" style="max-width:{f.width:g}px;border:1px solid #d0d7de;border-radius:6px">',
        "<title>event arrivals over time</title>",
    ]
    # grid and axes
    step = _nice_step(t_max)
    tick = 0.0
    while tick <= t_max + 1e-9:
        out.append(
            f'<line x1="{_fmt(x(tick))}" y1="{f.top:g}" x2="{_fmt(x(tick))}" y2="{f.top + f.plot_h:g}" stroke="#eaeef2"/>'
            f'<text x="{_fmt(x(tick))}" y="{f.top + f.plot_h + 30:g}" font-size="11" text-anchor="middle" fill="#57606a">{tick:g}</text>'
        )
        tick = round(tick + step, 9)
    ystep = max(1, int(_nice_step(max(n_max - 1, 1), 6)))
    for i in range(0, n_max, ystep):
        out.append(
            f'<line x1="{f.left:g}" y1="{_fmt(y(i))}" x2="{f.left + f.plot_w:g}" y2="{_fmt(y(i))}" stroke="#eaeef2"/>'
            f'<text x="{f.left - 6:g}" y="{_fmt(y(i) + 4)}" font-size="11" text-anchor="end" fill="#57606a">{i}</text>'
        )
    out.append(
        f'<rect x="{f.left:g}" y="{f.top:g}" width="{f.plot_w:g}" height="{f.plot_h:g}" fill="none" stroke="#8c959f"/>'
        f'<text x="{f.left + f.plot_w / 2:g}" y="{f.height - 8:g}" font-size="12" text-anchor="middle" fill="#1f2328">seconds since the request</text>'
        f'<text x="14" y="{f.top + f.plot_h / 2:g}" font-size="12" text-anchor="middle" fill="#1f2328" '
        f'transform="rotate(-90 14 {f.top + f.plot_h / 2:g})">event index</text>'
    )
    # markers: response headers, first byte, end of capture
    for row, (label, t, colour) in enumerate(
        (
            ("headers", cap.t_headers, "#8250df"),
            ("end: " + str(cap.end_reason), cap.t_end if cap.t_end > 0 else None, "#57606a"),
        )
    ):
        if t is None:
            continue
        flip = x(t) > f.left + f.plot_w * 0.75  # near the right edge: label on the left
        out.append(
            f'<line x1="{_fmt(x(t))}" y1="{f.top:g}" x2="{_fmt(x(t))}" y2="{f.top + f.plot_h:g}" '
            f'stroke="{colour}" stroke-dasharray="2 3"><title>{_e(label)} at {t:.3f} s</title></line>'
            f'<text data-role="marker-label" x="{_fmt(x(t) - 3 if flip else x(t) + 3)}" '
            f'y="{f.top - 6 - 12 * row:g}" font-size="10.5" text-anchor="{"end" if flip else "start"}" '
            f'fill="{colour}">{_e(label)}</text>'
        )
    # the other clients (stream.concurrent / stream.disconnect), faint
    for name, group in (extra or {}).items():
        if name == "reconnect":
            out += _reconnect_marks(cap, group, x, y, f.top, f.top + f.plot_h, f.left + f.plot_w)
            continue
        for k, other in enumerate(group):
            if other.events:
                shift = _offset(cap, other)
                pts = " ".join(
                    f"{_fmt(x(shift + e.t))},{_fmt(y(e.index))}" for e in _thin(other.events)
                )
                out.append(
                    f'<polyline points="{pts}" fill="none" stroke="#9a6700" stroke-width="1" opacity="0.45">'
                    f"<title>{_e(name)} client {k + 1}: {len(other.events)} events, {_e(other.end_reason)}</title></polyline>"
                )
    # expected cadence: over the other clients' lines (it was hidden under them), its own colour
    if interval and events:
        t0 = events[0].t
        t_last = t0 + interval * (n_max - 1)
        out.append(
            f'<line data-role="cadence" x1="{_fmt(x(t0))}" y1="{_fmt(y(0))}" x2="{_fmt(x(min(t_last, t_max)))}" '
            f'y2="{_fmt(y((min(t_last, t_max) - t0) / interval))}" stroke="{CADENCE}" stroke-width="1.5" '
            f'stroke-dasharray="6 4"><title>expected cadence: one event every {interval:g} s</title></line>'
        )
    # chunk rug: every network read, on the axis
    rug_y = f.top + f.plot_h
    chunks = cap.chunks
    if len(chunks) > MAX_CHUNK_TICKS:
        stride = math.ceil(len(chunks) / MAX_CHUNK_TICKS)
        chunks = chunks[::stride]
    rug = "".join(f"M{_fmt(x(c.t))} {rug_y + 3:g}v8" for c in chunks)
    if rug:
        out.append(
            f'<path d="{rug}" stroke="#1f2328" stroke-width="1" opacity="0.55"><title>network reads</title></path>'
        )
    # the main stream: a step line and one dot per event
    if events:
        shown = _thin(events)
        step_pts = [f"{_fmt(x(shown[0].t))},{_fmt(y(0))}"]
        for prev, ev in itertools.pairwise(shown):
            step_pts.append(f"{_fmt(x(ev.t))},{_fmt(y(prev.index))}")
            step_pts.append(f"{_fmt(x(ev.t))},{_fmt(y(ev.index))}")
        out.append(
            f'<polyline points="{" ".join(step_pts)}" fill="none" stroke="#0969da" stroke-width="1.5"/>'
        )
        for ev in shown:
            data = escape_excerpt(ev.data.encode("utf-8", "replace"), 60)
            out.append(
                f'<circle cx="{_fmt(x(ev.t))}" cy="{_fmt(y(ev.index))}" r="3.2" fill="#0969da">'
                f"<title>#{ev.index} t={ev.t:.3f}s {_e(ev.type)}: {_e(data)}</title></circle>"
            )
    else:
        out.append(
            f'<text x="{f.left + f.plot_w / 2:g}" y="{f.top + f.plot_h / 2:g}" font-size="14" '
            f'text-anchor="middle" fill="#57606a">no event was dispatched</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _reconnect_marks(
    main: Capture,
    group: list[Capture],
    x: Callable[[float], float],
    y: Callable[[float], float],
    top: float,
    bottom: float,
    right: float,
) -> list[str]:
    """reconnect.*: the cut, the reconnect (its events continue the cut's count), the after-end;
    a label near the plot's ``right`` edge goes to the left of its line (never past the frame).

    ``group`` is ReconnectRun.captures(): the cutting client, its reconnect when it was cut
    (aborted), then the reconnect after the end when there was one.
    """
    out: list[str] = []
    colour = "#bf3989"
    rest = list(group)
    cut = rest.pop(0) if rest else None
    resumed = (
        rest.pop(0) if cut is not None and cut.end_reason is EndReason.ABORTED and rest else None
    )
    after = rest.pop(0) if rest else None

    def mark(t: float, label: str) -> None:
        flip = x(t) > right - 90
        out.append(
            f'<line x1="{_fmt(x(t))}" y1="{top:g}" x2="{_fmt(x(t))}" y2="{bottom:g}" stroke="{colour}" '
            f'stroke-dasharray="4 3" opacity="0.8"><title>{_e(label)} at {t:.3f} s</title></line>'
            f'<text data-role="reconnect-label" x="{_fmt(x(t) - 3 if flip else x(t) + 3)}" y="{bottom - 6:g}" '
            f'font-size="10.5" text-anchor="{"end" if flip else "start"}" fill="{colour}">'
            f"{_e(label.split(':')[0])}</text>"
        )

    if cut is not None and cut.events:
        shift = _offset(main, cut)
        pts = " ".join(f"{_fmt(x(shift + e.t))},{_fmt(y(e.index))}" for e in _thin(cut.events))
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1" opacity="0.6"/>'
        )
        if resumed is not None:
            mark(shift + cut.t_end, f"cut: after {len(cut.events)} events")
    if resumed is not None:
        shift, base = _offset(main, resumed), len(cut.events) if cut is not None else 0
        mark(
            shift,
            f"reconnect: {resumed.request.last_event_id or 'no Last-Event-ID'} -> {resumed.status}",
        )
        pts = " ".join(
            f"{_fmt(x(shift + e.t))},{_fmt(y(base + e.index))}" for e in _thin(resumed.events)
        )
        if pts:
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5" opacity="0.8"/>'
            )
    if after is not None:
        mark(
            _offset(main, after),
            f"after the end: {after.request.last_event_id or 'no Last-Event-ID'} -> {after.status}",
        )
    return out


def _offset(main: Capture, other: Capture) -> float:
    """Seconds from the main request to ``other``'s (a follow-up client starts later)."""
    if main.started_at and other.started_at:
        return other.started_at - main.started_at
    return 0.0


def _swatch(shape: str) -> str:
    return f'<svg width="26" height="12" viewBox="0 0 26 12" style="vertical-align:middle">{shape}</svg>'


def _legend(expected: bool, others: bool, reconnect: bool = False) -> str:
    items = [
        (_swatch('<circle cx="13" cy="6" r="3.2" fill="#0969da"/>'), "an event of the main stream"),
        (_swatch('<path d="M13 1v10" stroke="#1f2328"/>'), "a network read"),
        (_swatch('<path d="M2 6h22" stroke="#57606a" stroke-dasharray="2 3"/>'), "headers / end"),
    ]
    if expected:
        items.append(
            (
                _swatch(f'<path d="M2 6h22" stroke="{CADENCE}" stroke-dasharray="6 4"/>'),
                "expected cadence",
            )
        )
    if others:
        items.append(
            (_swatch('<path d="M2 6h22" stroke="#9a6700" opacity="0.6"/>'), "the other clients")
        )
    if reconnect:
        items.append(
            (
                _swatch('<path d="M2 6h22" stroke="#bf3989" stroke-dasharray="4 3"/>'),
                "the reconnecting client (cut, reconnect, after the end)",
            )
        )
    return '<p class="meta">' + " &nbsp; ".join(f"{sw} {_e(text)}" for sw, text in items) + "</p>"


def _thin(items: Sequence[T]) -> list[T]:
    """At most MAX_POINTS items, evenly spaced, first and last always kept."""
    if len(items) <= MAX_POINTS:
        return list(items)
    stride = math.ceil(len(items) / MAX_POINTS)
    kept = list(items[::stride])
    if (len(items) - 1) % stride:  # by place: an EventLog builds a new object per read
        kept.append(items[-1])
    return kept


def _http_section(cap: Capture) -> str:
    status = "no response" if cap.status is None else f"{cap.status} {cap.reason_phrase}".strip()
    facts = [
        ("request", f"{cap.request.method} {cap.request.url}"),
        ("final URL", cap.url or cap.request.url),
        ("status", status),
        ("HTTP version", cap.http_version or "-"),
        ("ended", f"{cap.end_reason}" + (f": {cap.end_message}" if cap.end_message else "")),
        ("time to headers", "-" if cap.t_headers is None else f"{cap.t_headers:.3f} s"),
        ("time to first byte", "-" if cap.t_first_byte is None else f"{cap.t_first_byte:.3f} s"),
        (
            "body",
            f"{cap.decoded_bytes} bytes decoded, {cap.raw_bytes} on the wire"
            + (f" ({cap.content_encoding})" if cap.content_encoding else "")
            + f", {len(cap.chunks)} reads",
        ),
        ("line endings", ", ".join(f"{k}: {v}" for k, v in cap.line_endings.items()) or "-"),
        ("through", ", ".join(i.describe() for i in detect(cap.headers)) or "no proxy or CDN seen"),
    ]
    for r in cap.redirects:
        facts.append(("redirect", f"{r.status} {r.url} -> {r.location}"))
    rows = "".join(
        f"<tr><th style='width:170px'>{_e(k)}</th><td class='mono'>{_e(v)}</td></tr>"
        for k, v in facts
    )
    headers = "".join(
        f"<tr><td class='mono'>{_e(k)}</td><td class='mono'>{_e(v)}</td></tr>"
        for k, v in redact_headers(cap.headers)
    )
    return (
        f"<h2>HTTP</h2><table><tbody>{rows}</tbody></table>"
        f"<details><summary>response headers ({len(cap.headers)})</summary><table><tbody>{headers}</tbody></table></details>"
    )


def _events_table(cap: Capture) -> str:
    rows = []
    for ev in cap.events[:MAX_EVENT_ROWS]:
        data = escape_excerpt(ev.data.encode("utf-8", "replace"), 160)
        rows.append(
            f"<tr><td>{ev.index}</td><td>{ev.t:.3f}</td><td class='mono'>{_e(ev.type)}</td>"
            f"<td class='mono'>{_e(ev.last_event_id)}</td><td class='mono'>{_e(data)}</td><td>{ev.offset}</td></tr>"
        )
    more = len(cap.events) - MAX_EVENT_ROWS
    note = (
        f"<p class='meta'>{more} more events not shown (the JSON report has them all).</p>"
        if more > 0
        else ""
    )
    return (
        f"<h2>Events ({len(cap.events)})</h2><details{' open' if len(cap.events) <= 40 else ''}>"
        "<summary>dispatched events, as a browser's EventSource would see them</summary>"
        "<table><thead><tr><th>#</th><th>t (s)</th><th>type</th><th>last id</th><th>data</th><th>offset</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}</details>"
    )


def _launch_section(output: str) -> str:
    cut = len(output) > MAX_LAUNCH_OUTPUT
    shown = output[-MAX_LAUNCH_OUTPUT:] if cut else output
    note = " (last 64 KiB)" if cut else ""
    return (
        f"<h2>Launched server output{note}</h2><details><summary>stdout + stderr of --launch</summary>"
        f"<pre>{_e(shown) or '(nothing)'}</pre></details>"
    )


def _profile_section(report: Report) -> str:
    summary = report.profile.summary()  # request credentials already redacted
    rows = "".join(
        f"<tr><th style='width:220px' class='mono'>{_e(k)}</th><td class='mono'>{_e(v)}</td></tr>"
        for k, v in summary.items()
    )
    return f"<h2>Profile</h2><details><summary>effective settings</summary><table><tbody>{rows}</tbody></table></details>"
