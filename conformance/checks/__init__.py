"""The check catalogue: every check registers itself here with a stable id.

A check is a small pure function ``(CheckContext) -> Outcome`` over one capture (plus, for two of
them, the extra captures), so it can be tested on hand-built captures and run in any order. Modules
in this package register on import; a module added later (an extension) is picked up the same way.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence

from conformance.models import CheckFn, CheckSpec, Severity

SPEC = "https://html.spec.whatwg.org/multipage/server-sent-events.html"
SPEC_EVENTSOURCE = f"{SPEC}#the-eventsource-interface"
SPEC_PROCESSING = f"{SPEC}#sse-processing-model"
SPEC_PARSING = f"{SPEC}#parsing-an-event-stream"
SPEC_INTERPRETING = f"{SPEC}#event-stream-interpretation"
SPEC_AUTHORING = f"{SPEC}#authoring-notes"
SPEC_LAST_EVENT_ID = f"{SPEC}#the-last-event-id-header"

REGISTRY: dict[str, CheckSpec] = {}
_ORDER = ("http", "framing", "payload", "stream", "browser")
_SKIP_MODULES = {"context"}
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
    """Register a check function under a stable id (ids are unique; re-registering is a bug)."""

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
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name not in _SKIP_MODULES]
    ordered = [n for n in _ORDER if n in names] + sorted(n for n in names if n not in _ORDER)
    for name in ordered:
        importlib.import_module(f"{__name__}.{name}")
    _loaded = True


def _rank(spec: CheckSpec) -> tuple[int, str]:
    module = spec.fn.__module__.rsplit(".", 1)[-1]
    return (_ORDER.index(module) if module in _ORDER else len(_ORDER), module)


def all_checks() -> list[CheckSpec]:
    """The catalogue in a stable order (http, framing, payload, stream, browser, then extensions),
    whatever order the modules happened to be imported in."""
    _load_all()
    return sorted(REGISTRY.values(), key=_rank)  # stable: registration order within a module


def get(check_id: str) -> CheckSpec:
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
