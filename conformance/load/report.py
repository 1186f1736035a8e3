"""The load report for people (a fixed-width table, a plot) and for programs (JSON)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from conformance.evidence import escape_excerpt
from conformance.load.results import OPEN, LoadReport, StepResult, first_details

COLUMNS = (
    ("step", 7),
    ("open min/end", 13),
    ("conns", 6),
    ("events", 8),
    ("ev/s", 7),
    ("ev/s/str", 8),
    ("ttft p50/p90/p99 ms", 20),
    ("itl p50/p90/p99/max ms", 23),
    ("late p50/p99/max ms", 20),
    ("dur p50/p99 s", 14),
    ("srv cpu%", 8),
    ("srv rss MB", 10),
    ("gen cpu%", 8),
    ("gen lag p99 ms", 14),
    ("errors", 6),
    ("verdict", 7),
)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f}"


def _s(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _errors(step: StepResult) -> str:
    parts = [f"{kind}={count}" for kind, count in sorted(step.errors.items())]
    if step.statuses:
        parts.append("status " + ",".join(f"{s}x{n}" for s, n in sorted(step.statuses.items())))
    if step.retry_after:
        parts.append(
            "Retry-After " + ",".join(f"{v}x{n}" for v, n in sorted(step.retry_after.items()))
        )
    if step.missing:
        parts.append(f"missing={step.missing}")
    return " ".join(parts)


def step_row(step: StepResult) -> str:
    """One line of the table (also printed as each step ends). Never raises."""
    t, i, late, dur = step.ttft, step.itl, step.lateness, step.duration
    cells = [
        step.label,
        f"{step.open_min}/{step.open_end}",
        str(step.connections),
        str(step.events),
        f"{step.events_per_s:.0f}",
        "-" if math.isnan(step.stream_rate.p50) else f"{step.stream_rate.p50:.1f}",
        f"{_ms(t.p50)}/{_ms(t.p90)}/{_ms(t.p99)}",
        f"{_ms(i.p50)}/{_ms(i.p90)}/{_ms(i.p99)}/{_ms(i.max)}",
        f"{_ms(late.p50)}/{_ms(late.p99)}/{_ms(late.max)}",
        f"{_s(dur.p50)}/{_s(dur.p99)}",
        "-" if step.server_cpu_percent is None else f"{step.server_cpu_percent:.0f}",
        "-" if step.server_rss_bytes is None else f"{step.server_rss_bytes / 2**20:.0f}",
        f"{step.client_cpu_percent:.0f}",
        _ms(step.lag_p99),
        str(step.error_total),
        "ok" if step.meets else ("late" if step.delivered else "FAIL"),
    ]
    return "  ".join(cell.rjust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))


def table(report: LoadReport) -> str:
    """The whole report as text: one row per step, errors by kind, the verdict line."""
    header = "  ".join(name.rjust(width) for name, width in COLUMNS)
    loop = "open loop (arrivals per second)" if report.mode == OPEN else "closed loop (streams)"
    if report.processes > 1:
        loop += f", {report.processes} processes merged; gen cpu% summed, lag the worst's"
    lines = [f"load: {report.url} ({loop})", header]
    for step in report.steps:
        lines.append(step_row(step))
    details = [f"  {s.label}: {_errors(s)}" for s in report.steps if _errors(s)]
    if details:
        lines.append("errors by kind:")
        lines.extend(details)
        first = first_details(report.steps)
        lines.extend(
            f"  {kind}, the first: {escape_excerpt(v.encode(), 200)}"
            for kind, v in sorted(first.items())
        )
    limit = f"p99 lateness <= {report.p99_limit * 1000:g} ms"
    if report.ttft_limit is not None:
        limit += f", TTFT p99 <= {report.ttft_limit * 1000:g} ms"
    if report.mode == OPEN:
        best = report.largest_rate_meeting
        lines.append(
            f"largest arrival rate meeting the criterion (no error, {limit}): "
            f"{f'{best:g}/s' if best else 'none'}"
        )
    else:
        lines.append(
            f"largest step meeting the criterion (every event delivered, {limit}): "
            f"{report.largest_meeting or 'none'}"
        )
    lines.append(
        f"quantiles from a uniform sample of at most {report.sample_size:,} values per figure "
        "and step (exact below it); counts and maxima exact"
    )
    return "\n".join(lines)


def write_json(report: LoadReport, path: Path) -> None:
    """Raises OSError when the file cannot be written."""
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")


def write_plot(report: LoadReport, path: Path) -> None:
    """TTFT and inter-event gap quantiles per step, as a PNG. Raises ImportError without
    matplotlib (the bench extra) and OSError when the file cannot be written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [s.arrival_rate or 0.0 if s.mode == OPEN else float(s.target) for s in report.steps]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, values in (
        ("TTFT p50", [s.ttft.p50 for s in report.steps]),
        ("TTFT p90", [s.ttft.p90 for s in report.steps]),
        ("TTFT p99", [s.ttft.p99 for s in report.steps]),
    ):
        left.plot(xs, [v * 1000 for v in values], marker="o", label=name)
    for name, values in (
        ("ITL p50", [s.itl.p50 for s in report.steps]),
        ("ITL p99", [s.itl.p99 for s in report.steps]),
        ("lateness p99", [s.lateness.p99 for s in report.steps]),
    ):
        right.plot(xs, [v * 1000 for v in values], marker="o", label=name)
    xlabel = "arrivals per second" if report.mode == OPEN else "open streams"
    for ax, title in ((left, "time to first event"), (right, "between events")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(
        report.url if report.processes == 1 else f"{report.url} ({report.processes} processes)"
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
