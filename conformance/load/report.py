"""The load report for people (a fixed-width table) and for programs (JSON)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from conformance.load.runner import LoadReport, StepResult

COLUMNS = (
    ("streams", 7),
    ("open min/end", 13),
    ("conns", 6),
    ("events", 7),
    ("ev/s", 7),
    ("ttfe p50/p99 ms", 16),
    ("late p50/p99/max ms", 20),
    ("srv cpu%", 8),
    ("srv rss MB", 10),
    ("gen cpu%", 8),
    ("errors", 6),
    ("verdict", 7),
)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f}"


def _errors(step: StepResult) -> str:
    parts = [f"{kind}={count}" for kind, count in sorted(step.errors.items())]
    if step.statuses:
        parts.append("status " + ",".join(f"{s}x{n}" for s, n in sorted(step.statuses.items())))
    if step.missing:
        parts.append(f"missing={step.missing}")
    return " ".join(parts)


def step_row(step: StepResult) -> str:
    cells = [
        str(step.target),
        f"{step.open_min}/{step.open_end}",
        str(step.connections),
        str(step.events),
        f"{step.events_per_s:.0f}",
        f"{_ms(step.ttfe.p50)}/{_ms(step.ttfe.p99)}",
        f"{_ms(step.lateness.p50)}/{_ms(step.lateness.p99)}/{_ms(step.lateness.max)}",
        "-" if step.server_cpu_percent is None else f"{step.server_cpu_percent:.0f}",
        "-" if step.server_rss_bytes is None else f"{step.server_rss_bytes / 2**20:.0f}",
        f"{step.client_cpu_percent:.0f}",
        str(step.error_total),
        "ok" if step.meets else ("late" if step.delivered else "FAIL"),
    ]
    return "  ".join(cell.rjust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))


def table(report: LoadReport) -> str:
    header = "  ".join(name.rjust(width) for name, width in COLUMNS)
    lines = [f"load: {report.url}", header]
    for step in report.steps:
        lines.append(step_row(step))
    details = [f"  {s.target}: {_errors(s)}" for s in report.steps if _errors(s)]
    if details:
        lines.append("errors by kind:")
        lines.extend(details)
    limit_ms = report.p99_limit * 1000
    lines.append(
        f"largest step meeting the criterion (every event delivered, p99 lateness <= "
        f"{limit_ms:g} ms): {report.largest_meeting or 'none'}"
    )
    return "\n".join(lines)


def write_json(report: LoadReport, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
