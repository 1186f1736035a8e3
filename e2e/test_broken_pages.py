"""The browser tests fail on broken pages: the right test, for the right reason.

Each mutant of :mod:`e2e.broken` is run in its own pytest process (a mutant applies to a whole
session: the page served, or a script in every browser context), selecting only the tests it must
fail, and the JUnit report is read back: every one of them failed, with the expected words.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from e2e.broken import MUTANTS, Mutant

E2E_DIR = Path(__file__).resolve().parent
# Run on every `nox -s e2e` (about 10 s; a script mutant, so no edit of the page can stale it);
# the others (about 1.5 min together) with --all-mutants.
ALWAYS = "ignore-sentinel"


def run_against(mutant: Mutant, workdir: Path, chromium_path: str | None) -> dict[str, str]:
    """Run the mutant's expected failures; return test name -> "passed" or its failure text."""
    report = workdir / "report.xml"
    names = [name for name, _ in mutant.expected_failures]
    argv = [
        sys.executable, "-m", "pytest",
        "-c", str(E2E_DIR / "pytest.ini"), str(E2E_DIR),
        "--broken-page", mutant.name,
        "-k", " or ".join(names),
        "--junitxml", str(report),
        "--output", str(workdir / "artifacts"),
        "-q", "-p", "no:randomly",
    ]  # fmt: skip
    if chromium_path:
        argv += ["--chromium-path", chromium_path]
    env = {k: v for k, v in os.environ.items() if k not in ("E2E_BROKEN_PAGE", "PYTEST_ADDOPTS")}
    done = subprocess.run(
        argv, cwd=E2E_DIR.parent, env=env, capture_output=True, text=True, timeout=110, check=False
    )
    assert report.exists(), f"no report (exit {done.returncode}):\n{done.stdout[-2000:]}"
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name", "").split("[")[0]
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        if problem is not None:
            outcomes[name] = f"{problem.get('message', '')}\n{problem.text or ''}"
        elif skipped is not None:
            outcomes[name] = f"skipped: {skipped.get('message', '')}"
        else:
            outcomes[name] = "passed"
    return outcomes


@pytest.mark.owned_server
@pytest.mark.parametrize("mutant", list(MUTANTS.values()), ids=list(MUTANTS))
def test_broken_page_fails_the_right_test(
    mutant: Mutant, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    if pytestconfig.getoption("--broken-page"):
        pytest.skip("already running against a broken page")
    if mutant.name != ALWAYS and not pytestconfig.getoption("--all-mutants"):
        pytest.skip("slow: run with --all-mutants")
    outcomes = run_against(mutant, tmp_path, pytestconfig.getoption("--chromium-path"))
    expected = dict(mutant.expected_failures)
    assert sorted(outcomes) == sorted(expected), f"ran {sorted(outcomes)}"
    for name, words in expected.items():
        assert outcomes[name] != "passed", f"{name} passed against the {mutant.name} page"
        assert words in outcomes[name], f"{name} failed for another reason:\n{outcomes[name]}"
