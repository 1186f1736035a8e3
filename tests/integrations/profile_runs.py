"""Running a profile's fake server under the full suite, and reading what did not pass.

The OpenAI Responses, Anthropic, MCP and graphql-sse profile tests each serve one variant of their
fake on a uvicorn thread, run the whole suite against it, and compare the verdicts that are not a
pass (``browser.plain-eventsource`` set aside: see ``fetch_only``).
"""

from __future__ import annotations

from starlette.applications import Starlette

from conformance.models import Report, Verdict
from conformance.profiles import Profile, load_profile
from conformance.runner import run_suite_sync
from testing.support import uvicorn_thread
from tests.integrations.fetch_only import without_fetch_only

# The extra clients re-judge the main stream's defects on their own streams; a defect matrix
# leaves them out so each row names exactly the checks that must fail (the valid variants run them).
MAIN_ONLY = ("stream.concurrent", "stream.disconnect")


def tight_profile(name: str) -> Profile:
    """The shipped profile ``name`` with tight limits, which keep the broken variants short."""
    return load_profile(name).replace(
        close_grace=0.6, idle_timeout=5.0, deadline=15.0, first_event_timeout=5.0
    )


def run_app(
    app: Starlette, path: str, profile: Profile, skip: tuple[str, ...] = MAIN_ONLY
) -> tuple[Report, list[dict[str, object]]]:
    """The suite's report on ``app`` served at ``path``, and the requests the fake recorded in
    ``app.state.requests`` (empty when it records none)."""
    with uvicorn_thread(app) as server:
        report = run_suite_sync(server.base_url + path, profile, skip=skip)
    return report, getattr(app.state, "requests", [])


def not_passed(report: Report) -> dict[str, Verdict]:
    """Each failed or warned check's verdict (the fetch-only warning checked and set aside)."""
    return {
        r.check_id: r.verdict
        for r in without_fetch_only(report)
        if r.verdict in (Verdict.FAIL, Verdict.WARN)
    }


def verdicts(report: Report, verdict: Verdict) -> set[str]:
    """The checks that ended in ``verdict`` (the fetch-only warning checked and set aside)."""
    return {r.check_id for r in without_fetch_only(report) if r.verdict is verdict}


def not_passing(report: Report) -> list[tuple[str, str, str]]:
    """(check, verdict, reason) of every failed or warned check: an assertion's message."""
    return [
        (r.check_id, r.verdict, r.reason)
        for r in without_fetch_only(report)
        if r.verdict in ("fail", "warn")
    ]
