"""One writer for every report file, called by the CLI and the pytest plugin alike."""

from __future__ import annotations

from pathlib import Path

from conformance.errors import UsageError
from conformance.models import Report
from conformance.reports.html import write_html_report
from conformance.reports.json import write_json
from conformance.reports.junit import write_junit


def write_reports(
    report: Report,
    *,
    json: str | Path | None = None,
    junit: str | Path | None = None,
    html: str | Path | None = None,
    body: str | Path | None = None,
    strict: bool = False,
    launch_output: str | None = None,
) -> None:
    """Write each report given a path (its folder is created): JSON, JUnit XML, HTML, and the
    captured body (decoded bytes, for ``sse-conformance decode``).

    Raises UsageError (one line) when a file cannot be written.
    """
    try:
        if body:
            target = Path(body)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                for chunk in report.capture.chunks:
                    fh.write(chunk.data)
        if json:
            write_json(report, json, strict=strict)
        if junit:
            write_junit(report, junit, strict=strict)
        if html:
            write_html_report(report, html, launch_output=launch_output, strict=strict)
    except OSError as exc:
        raise UsageError(f"cannot write a report: {exc.filename}: {exc.strerror or exc}") from None
