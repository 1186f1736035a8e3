"""The SSE conformance suite: judge any Server-Sent Events endpoint check by check.

The supported surface is :data:`__all__`; everything else is internal and may change (the check
catalogue, captures and reports have their own packages, documented in the README). Names load
on first use, so ``import conformance`` (or its data model) never pulls in the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.models import Report, Result, Verdict
    from conformance.parser import Event, Parser
    from conformance.profiles import load_profile
    from conformance.runner import run_suite, run_suite_sync

# The one home of the version: pyproject.toml reads it (hatch), both scripts print it (--version).
__version__ = "0.1.0"

__all__ = [
    "Event",
    "Parser",
    "Report",
    "Result",
    "Verdict",
    "load_profile",
    "run_suite",
    "run_suite_sync",
]

_HOMES = {
    "Event": "conformance.parser",
    "Parser": "conformance.parser",
    "Report": "conformance.models",
    "Result": "conformance.models",
    "Verdict": "conformance.models",
    "load_profile": "conformance.profiles",
    "run_suite": "conformance.runner",
    "run_suite_sync": "conformance.runner",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its home on first use; AttributeError for any other.
    Raises AttributeError for a name outside ``__all__``."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
