"""The check catalogue: every check registers itself here under a stable id.

A check is a small pure function ``(CheckContext) -> Outcome`` over one capture (plus, for some,
the extra captures), so it can be tested on hand-built captures and run in any order. The modules
that hold checks are listed in :data:`CHECK_MODULES` (the generic suite, then the application
contracts); they register on import, which :func:`all_checks` does once, in that order.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.models import Outcome, OutcomeKind, Result, Severity, Verdict

if TYPE_CHECKING:
    from conformance.checks.context import CheckContext

CheckFn = Callable[["CheckContext"], Outcome]

# Areas in catalogue order (an id's prefix); ids of other areas follow, in registration order.
AREAS = ("http", "framing", "payload", "stream", "reconnect", "browser")
CHECK_MODULES = (
    "conformance.checks.http",
    "conformance.checks.framing",
    "conformance.checks.payload",
    "conformance.checks.stream",
    "conformance.checks.reconnect",
    "conformance.checks.browser",
    "conformance.contracts.ram_monitor",
    "conformance.contracts.openai_chat",
)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One catalogue entry: the check's id, what it rests on, its severity and its function."""

    id: str
    title: str
    spec: str  # URL (with anchor) of the rule the check rests on
    severity: Severity
    fn: CheckFn
    needs: frozenset[str] = frozenset()  # extra captures: "concurrent", "disconnect", "reconnect"
    doc: str = ""  # what each verdict means (docs/checks.md)

    def result(self, outcome: Outcome) -> Result:
        """The check's verdict: a problem fails a MUST check and warns a SHOULD check."""
        if outcome.kind is OutcomeKind.PROBLEM:
            verdict = Verdict.FAIL if self.severity is Severity.MUST else Verdict.WARN
        else:
            verdict = Verdict(outcome.kind.value)
        return Result(
            check_id=self.id,
            verdict=verdict,
            reason=outcome.reason,
            evidence=outcome.evidence,
            title=self.title,
            severity=self.severity,
            spec=self.spec,
        )


REGISTRY: dict[str, CheckSpec] = {}
_loaded = False


def check(
    id: str,
    title: str,
    spec: str,
    severity: Severity,
    *,
    needs: Iterable[str] = (),
    doc: str = "",
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable id.

    Raises ValueError when the id is already registered to another function (ids are unique).
    """

    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY and REGISTRY[id].fn is not fn:
            raise ValueError(f"check id {id!r} registered twice")
        REGISTRY[id] = CheckSpec(id, title, spec, severity, fn, frozenset(needs), doc.strip())
        return fn

    return register


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for name in CHECK_MODULES:
        importlib.import_module(name)
    _loaded = True


def _rank(spec: CheckSpec) -> int:
    area = spec.id.split(".", 1)[0]
    return AREAS.index(area) if area in AREAS else len(AREAS)


def all_checks() -> list[CheckSpec]:
    """The catalogue in a stable order (http, framing, payload, stream, browser, then the other
    areas), whatever order the modules happened to be imported in."""
    _load_all()
    return sorted(REGISTRY.values(), key=_rank)  # stable: registration order within an area


def get(check_id: str) -> CheckSpec:
    """The catalogue entry of ``check_id``; raises KeyError for an unknown id."""
    _load_all()
    return REGISTRY[check_id]


def select(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[CheckSpec]:
    """Checks whose id matches any ``only`` glob (all when empty) and no ``skip`` glob.

    Raises ValueError when a glob matches nothing, so a typo is never a silently empty run.
    """
    specs = all_checks()
    for pattern in (*only, *skip):
        if not any(fnmatch.fnmatchcase(s.id, pattern) for s in specs):
            raise ValueError(f"no check matches {pattern!r} (see --list-checks)")
    chosen = [s for s in specs if not only or any(fnmatch.fnmatchcase(s.id, p) for p in only)]
    return [s for s in chosen if not any(fnmatch.fnmatchcase(s.id, p) for p in skip)]
