"""The warning every POST-streaming profile expects: ``browser.plain-eventsource``.

OpenAI, Anthropic, MCP and graphql-sse endpoints take a POST with a JSON body (and usually an
``Authorization`` header), which ``new EventSource(url)`` cannot send: only fetch-based clients
open them, and the suite says so with a warning. The profile tests judge every other verdict
exactly; this helper checks that one and sets it aside.
"""

from __future__ import annotations

from conformance.models import Report, Result, Verdict

FETCH_ONLY = "browser.plain-eventsource"


def without_fetch_only(report: Report) -> list[Result]:
    """The report's results but ``browser.plain-eventsource``, which must have warned (when it
    was selected at all). Raises AssertionError when it did not warn."""
    for result in report.results:
        if result.check_id == FETCH_ONLY:
            assert result.verdict is Verdict.WARN, result
            assert "fetch-based client" in result.reason, result.reason
    return [r for r in report.results if r.check_id != FETCH_ONLY]
