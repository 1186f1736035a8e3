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

from conformance.errors import SelectionError
from conformance.models import Outcome, OutcomeKind, Result, Severity, Verdict

if TYPE_CHECKING:
    from conformance.checks.context import CheckContext

CheckFn = Callable[["CheckContext"], Outcome]

# Areas in catalogue order (an id's prefix); ids of other areas follow, in registration order.
AREAS = ("http", "framing", "payload", "stream", "reconnect", "browser", "cors")
CHECK_MODULES = (
    "conformance.checks.http",
    "conformance.checks.framing",
    "conformance.checks.payload",
    "conformance.checks.stream",
    "conformance.checks.clients",
    "conformance.checks.liveness",
    "conformance.checks.reconnect",
    "conformance.checks.browser",
    "conformance.checks.transport",
    "conformance.checks.eventsource_request",
    "conformance.checks.cors",
    "conformance.checks.real_browser",
    "conformance.contracts.ram_monitor",
    "conformance.contracts.openai_chat",
    "conformance.contracts.openai_responses",
    "conformance.contracts.anthropic_messages",
    "conformance.contracts.mcp_streamable_http",
    "conformance.contracts.graphql_sse",
)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One catalogue entry: the check's id, what it rests on, its severity and its function."""

    id: str
    title: str
    spec: str  # URL (with anchor) of the rule the check rests on
    severity: Severity
    fn: CheckFn
    needs: frozenset[str] = (
        frozenset()
    )  # extra runs: "concurrent", "disconnect", "reconnect", "browser"
    doc: str = ""  # what each verdict means (docs/checks.md)
    # Judges the messages one client received (payload and contract checks): stream.concurrent
    # and stream.disconnect hold every extra client's stream to it too.
    per_client: bool = False
    # Which connections and which part of them (head, bytes, which events) the check reads
    # (docs/checks.md), so a check that judges what the page never receives shows in review.
    reads: str = ""

    def result(self, outcome: Outcome) -> Result:
        """The check's verdict: a problem fails a MUST check and warns a SHOULD check.
        Never raises."""
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


# What a check reads (CheckSpec.reads), in the words docs/checks.md shows.
READS_HEAD = "the main connection's status line and headers"
READS_BYTES = "the main connection's decoded body bytes (every byte the browser's parser sees)"
READS_EXPECTED = (
    "the main connection's events of the expected type (`event_type`; every type when it is "
    "not set or `*`), and each extra client's the same way"
)
READS_ALL_EVENTS = "every event of the main connection, whatever its type (its arrival times)"

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
    per_client: bool = False,
    reads: str = "",
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable id.

    ``per_client``: the check judges the messages one client received (a payload or contract
    check), so the extra clients' streams are held to it too (:func:`per_client`). ``reads``:
    which connections and which of their parts or events it judges (one of the ``READS_*``
    phrases where one fits). Raises ValueError when the id is already registered to another function (ids are unique).
    """

    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY and REGISTRY[id].fn is not fn:
            raise ValueError(f"check id {id!r} registered twice")
        REGISTRY[id] = CheckSpec(
            id, title, spec, severity, fn, frozenset(needs), doc.strip(), per_client, reads
        )
        return fn

    return register


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for name in CHECK_MODULES:
        importlib.import_module(name)
    _loaded = True


def _rank(spec: CheckSpec) -> tuple[int, int]:
    """Area first, then the module's place in CHECK_MODULES (so a module that a test imported
    early does not jump the queue); within a module, registration order (the sort is stable)."""
    area = spec.id.split(".", 1)[0]
    module = spec.fn.__module__
    place = CHECK_MODULES.index(module) if module in CHECK_MODULES else len(CHECK_MODULES)
    return (AREAS.index(area) if area in AREAS else len(AREAS), place)


def all_checks() -> list[CheckSpec]:
    """The catalogue in a stable order (http, framing, payload, stream, browser, cors, then the other
    areas), whatever order the modules happened to be imported in.
    Raises only if a check module fails to import or registers an id twice (suite bugs)."""
    _load_all()
    return sorted(REGISTRY.values(), key=_rank)  # stable: registration order within an area


def contract_of(spec: CheckSpec) -> str | None:
    """The application contract a check belongs to (its module's ``CONTRACT``), or None for a
    generic check. Never raises."""
    # the function's own globals, not sys.modules: pytest's in-process runs (pytester) take the
    # modules they imported out of sys.modules again, and every check then looked generic
    owner = getattr(spec.fn, "__globals__", {}).get("CONTRACT")
    return owner if isinstance(owner, str) else None


def for_profile(contract: str | None) -> list[CheckSpec]:
    """The checks that judge a profile with this contract: every generic check, and the
    contract's own (other contracts' checks would only skip). Raises as :func:`all_checks`."""
    return [s for s in all_checks() if contract_of(s) in (None, contract)]


def per_client() -> list[CheckSpec]:
    """The checks that judge one client's messages (registered with ``per_client=True``), in
    catalogue order: what every extra client's stream is held to. Never raises (beyond an import
    error of a check module, a suite bug)."""
    return [spec for spec in all_checks() if spec.per_client]


def get(check_id: str) -> CheckSpec:
    """The catalogue entry of ``check_id``; raises KeyError for an unknown id."""
    _load_all()
    return REGISTRY[check_id]


class _EveryContract:
    """The default of :func:`select`'s ``contract``: do not narrow to one contract."""


EVERY_CONTRACT = _EveryContract()


def select(
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    contract: str | _EveryContract | None = EVERY_CONTRACT,
) -> list[CheckSpec]:
    """Checks whose id matches any ``only`` glob (all when empty) and no ``skip`` glob.

    ``contract`` (a profile's contract, None for none): with no ``only``, other contracts'
    checks are left out, since they could only skip ("not an MCP server") and bury the verdicts
    that matter; a check an ``only`` glob names is kept whatever its contract, as asked. Raises
    SelectionError (a UsageError, so a ValueError) when a glob matches nothing, so a typo is
    never a silently empty run.
    """
    specs = all_checks()
    for pattern in (*only, *skip):
        if not any(fnmatch.fnmatchcase(s.id, pattern) for s in specs):
            raise SelectionError(f"no check matches {pattern!r} (see --list-checks)")
    if only:
        chosen = [s for s in specs if any(fnmatch.fnmatchcase(s.id, p) for p in only)]
    elif isinstance(contract, _EveryContract):
        chosen = specs
    else:
        chosen = for_profile(contract)
    return [s for s in chosen if not any(fnmatch.fnmatchcase(s.id, p) for p in skip)]
