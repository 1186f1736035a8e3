"""Reports of a run: the terminal table (:mod:`.text`), JSON (:mod:`.json`), JUnit XML
(:mod:`.junit`) and a self-contained HTML page (:mod:`.html`); :func:`write_reports` writes the
files. Every renderer shows headers only through :mod:`conformance.redaction`."""

from conformance.reports.writer import write_reports

__all__ = ["write_reports"]
