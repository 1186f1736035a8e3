"""The HTML report's side-by-side view of ``--browser``: the spec's events (the suite's parser over
the bytes Chromium received) beside what Chromium's EventSource dispatched, aligned so a dropped
event leaves a gap instead of shifting every row after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.browser.compare import Row, describe, expected, rows
from conformance.reports.markup import escape as _e

if TYPE_CHECKING:
    from conformance.models import Report

MAX_ROWS = 200  # a long stream's first rows; the check's verdict already names the first difference


def _cell(row: Row, side: str) -> str:
    event = row.spec if side == "spec" else row.browser
    if event is None:
        return '<td class="mono" style="color:#b00">(none)</td>'
    where = f"@{row.spec.offset} " if side == "spec" and row.spec is not None else ""
    when = f"t={row.browser.t:.3f}s " if side == "browser" and row.browser is not None else ""
    return f'<td class="mono">{_e(where + when + describe(event, 120))}</td>'


def browser_section(report: Report) -> str:
    """``<h2>`` and the two-column table, or "" when the run had no --browser. Never raises."""
    run = report.browser
    if run is None:
        return ""
    expect = expected(run, report.capture)
    table = rows(expect, run)
    source = "the bytes Chromium received" if expect.from_browser_bytes else "the suite's capture"
    head = (
        "<h2>In a real browser (--browser)</h2>"
        f"<p>Page <code>{_e(run.page_url)}</code>"
        f"{' with withCredentials' if run.with_credentials else ''}, Chromium "
        f"<code>{_e(run.executable)}</code>; closed by: {_e(run.closed_by)}. "
        f"Left: the events the spec dispatches for {_e(source)}; right: Chromium's.</p>"
    )
    states = ", ".join(s.describe() for s in run.states) or "no open, no error"
    console = "".join(f"<li class='mono'>{_e(line)}</li>" for line in run.console)
    differs = ' style="background:#fde8e8"'
    body = "".join(
        f"<tr{'' if r.same else differs}><td>{i}</td>{_cell(r, 'spec')}{_cell(r, 'browser')}</tr>"
        for i, r in enumerate(table[:MAX_ROWS])
    )
    more = f"<p>… {len(table) - MAX_ROWS} more rows</p>" if len(table) > MAX_ROWS else ""
    return (
        head
        + f"<p>EventSource: {_e(states)}</p>"
        + (f"<p>Chromium's console:</p><ul>{console}</ul>" if console else "")
        + "<table><thead><tr><th>#</th><th>spec (the suite)</th><th>Chromium</th></tr></thead>"
        + f"<tbody>{body}</tbody></table>{more}"
    )
