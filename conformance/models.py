"""The suite's vocabulary: verdicts, check results with evidence, the report.

Kept free of I/O and of the HTTP client so reports (JSON, JUnit, HTML, pytest items) can be built from
these objects alone, and so checks stay pure functions that tests can feed hand-built captures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from conformance.browser.model import BrowserRun
    from conformance.capture.model import Capture
    from conformance.profiles import Profile


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Severity(StrEnum):
    """MUST: a problem fails the run (browsers lose or mangle data). SHOULD: a problem only warns."""

    MUST = "MUST"
    SHOULD = "SHOULD"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a problem shows. ``offset`` is a byte offset into the (decoded) response body, or None
    when the evidence is not in the body (a header, the status line, a timing)."""

    offset: int | None
    excerpt: str
    t: float | None = None  # seconds since the request started, when timing is the point
    label: str = ""  # where, when not in the body nor the HTTP head (e.g. "client 2")

    def describe(self) -> str:
        """One line: where (``@offset``, ``[label]`` or ``@http``), when, and the excerpt. Never raises."""
        if self.offset is not None:
            where = f"@{self.offset}"
        else:
            where = f"[{self.label}]" if self.label else "@http"
        when = f" t={self.t:.3f}s" if self.t is not None else ""
        return f"{where}{when}: {self.excerpt}"


@dataclass(frozen=True, slots=True)
class Result:
    check_id: str
    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...] = ()
    title: str = ""
    severity: Severity = Severity.MUST
    spec: str = ""


class OutcomeKind(StrEnum):
    """What a check found; only PROBLEM depends on the check's severity (fail or warn)."""

    PASS = "pass"
    PROBLEM = "problem"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check function returns; the runner adds the catalogue data to make a Result.

    ``problem`` is turned into fail (MUST checks) or warn (SHOULD checks), so a check's code never
    decides its own severity; ``warn`` is an explicit warning even from a MUST check.
    """

    kind: OutcomeKind
    reason: str
    evidence: tuple[Evidence, ...] = ()


def passed(reason: str, *evidence: Evidence) -> Outcome:
    """A pass with its reason. Never raises."""
    return Outcome(OutcomeKind.PASS, reason, evidence)


def problem(reason: str, *evidence: Evidence) -> Outcome:
    """A problem: fail for a MUST check, warn for a SHOULD check. Never raises."""
    return Outcome(OutcomeKind.PROBLEM, reason, evidence)


def warning(reason: str, *evidence: Evidence) -> Outcome:
    """An explicit warning, whatever the severity. Never raises."""
    return Outcome(OutcomeKind.WARN, reason, evidence)


def skipped(reason: str) -> Outcome:
    """Not judged, and why. Never raises."""
    return Outcome(OutcomeKind.SKIP, reason)


UNREACHABLE_EXIT = 2


class FollowUpRecord(Protocol):
    """What a contract's follow-up job (an MCP session, a second graphql-sse query) recorded:
    the checks read its own fields; reports list its requests through :meth:`requests`."""

    def requests(self) -> Sequence[tuple[str, Capture]]:
        """Each request sent, labelled as reports show it, with its capture, in order."""
        ...


@dataclass(repr=False)
class Report:
    target: str
    profile: Profile
    started: datetime
    duration_s: float
    results: list[Result]
    capture: Capture
    extra_captures: dict[str, list[Capture]] = field(default_factory=dict)
    browser: BrowserRun | None = None  # --browser: what headless Chromium's EventSource saw
    # contracts' follow-up records by ``needs`` name (conformance.contracts.follow_ups)
    follow_ups: dict[str, FollowUpRecord] = field(default_factory=dict)

    def __repr__(self) -> str:
        """A summary: the report holds its captures, never rendered (see conformance.reprs)."""
        counts = ", ".join(f"{v.value}={n}" for v, n in self.counts().items() if n)
        return f"Report({self.target!r}, {len(self.results)} results: {counts}, {self.capture!r})"

    @property
    def unreachable(self) -> bool:
        """No TCP connection at all: the target is wrong, not broken (exit 2, like a usage error).
        Never raises."""
        return self.capture.end_reason.unreachable

    def counts(self) -> dict[Verdict, int]:
        """How many results have each verdict. Never raises."""
        out = dict.fromkeys(Verdict, 0)
        for result in self.results:
            out[result.verdict] += 1
        return out

    def exit_code(self, strict: bool = False) -> int:
        """Never raises."""
        if self.unreachable:
            return UNREACHABLE_EXIT
        bad = {Verdict.FAIL, Verdict.WARN} if strict else {Verdict.FAIL}
        return 1 if any(r.verdict in bad for r in self.results) else 0

    def result(self, check_id: str) -> Result:
        """The result of ``check_id``; raises KeyError for a check that is not in the report."""
        for result in self.results:
            if result.check_id == check_id:
                return result
        raise KeyError(check_id)
