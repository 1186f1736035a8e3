"""The graphql-sse profile: fakes with one defect each, and the graphql-sse npm package's handler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.capture.recorder import replay
from conformance.checks import registry
from conformance.checks.context import CheckContext
from conformance.models import OutcomeKind, Report, Verdict
from conformance.profiles import Profile, load_profile
from conformance.runner import run_suite_sync
from testing.support import free_port, stop_process, wait_for_port
from tests.integrations.graphql_fake import PATH, graphql_app
from tests.integrations.profile_runs import MAIN_ONLY, not_passing, run_app, verdicts

ROOT = Path(__file__).resolve().parents[2]
NODE_SERVER = ROOT / "testing" / "node" / "graphql_sse_server.mjs"


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile("graphql-sse").replace(idle_timeout=2.0, deadline=10.0, close_grace=0.5)


def run(variant: str, profile: Profile, skip: tuple[str, ...] = MAIN_ONLY) -> Report:
    return run_app(graphql_app(variant), PATH, profile, skip)[0]


def test_the_valid_server_passes(profile: Profile) -> None:
    report = run("good", profile, skip=())
    assert not_passing(report) == []
    for check_id in ("graphql.next", "graphql.complete", "graphql.errors-as-next"):
        assert report.result(check_id).verdict is Verdict.PASS, report.result(check_id)


@pytest.mark.parametrize(
    ("variant", "failing", "reason_part"),
    [
        ("no-complete", {"graphql.complete"}, "no complete event"),
        ("validation-400", {"graphql.errors-as-next"}, "status 400"),
    ],
)
def test_each_defect_fails_exactly_its_checks(
    profile: Profile, variant: str, failing: set[str], reason_part: str
) -> None:
    report = run(variant, profile)
    assert verdicts(report, Verdict.FAIL) == failing, not_passing(report)
    assert verdicts(report, Verdict.WARN) == set(), not_passing(report)
    result = report.result(next(iter(failing)))
    assert reason_part in result.reason
    assert result.evidence


def test_results_that_are_not_next_events_fail() -> None:
    # through the registry: importing a check module at collection would change the catalogue order
    next_events = registry.get("graphql.next").fn
    from conformance.contracts.graphql_sse import result_problem

    profile = load_profile("graphql-sse")
    cap = replay([(0.0, b'event: message\ndata: {"data": {}}\n\nevent: next\ndata: [1]\n\n')])
    outcome = next_events(CheckContext(cap, profile))
    assert outcome.kind is OutcomeKind.PROBLEM
    assert "named 'message'" in outcome.reason
    assert result_problem('{"errors": []}') == "'errors' is not a non-empty list"
    assert result_problem('{"data": null, "errors": [{"message": "x"}]}') is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on the PATH")
@pytest.mark.skipif(
    not (ROOT / "node_modules" / "graphql-sse").is_dir(),
    reason="node_modules/graphql-sse is missing (run npm ci)",
)
def test_the_graphql_sse_package_handler_passes(profile: Profile) -> None:
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(NODE_SERVER), str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        report = run_suite_sync(f"http://127.0.0.1:{port}/graphql/stream", profile)
    finally:
        stop_process(proc)
    assert verdicts(report, Verdict.FAIL) == set(), not_passing(report)
    for check_id in ("graphql.next", "graphql.complete", "graphql.errors-as-next"):
        assert report.result(check_id).verdict is Verdict.PASS, report.result(check_id)
    # the handler sends `Content-Encoding: none` (not a registered coding): a warning, not a fail
    assert verdicts(report, Verdict.WARN) <= {"http.content-encoding"}
