"""The check catalogue (re-exported from :mod:`conformance.checks.registry`).

The generic checks live in this package, one module per area (``http``, ``framing``, ``payload``,
``stream``, ``browser``); application contracts (``conformance.contracts``) add their own.
"""

from conformance.checks.registry import (
    REGISTRY,
    CheckFn,
    CheckSpec,
    all_checks,
    check,
    get,
    select,
)

__all__ = ["REGISTRY", "CheckFn", "CheckSpec", "all_checks", "check", "get", "select"]
