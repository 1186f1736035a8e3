"""User-input errors: one family, so a front end catches one class and prints one line.

Every error a person can cause by what they typed (a flag, a profile file, a check glob, a launch
command, a load-mode setting) is a :class:`UsageError`; the CLI prints ``str(error)`` after
``sse-conformance: error:`` and exits 2, the pytest plugin turns it into ``pytest.UsageError``.
Front ends print it through :func:`one_line`, so a message that quotes a subprocess's output
(a :class:`LaunchError` keeps its paragraph for library callers) is still one line. Subclassing ValueError keeps ``except ValueError`` callers working.
"""

from __future__ import annotations


class UsageError(ValueError):
    """Something the user gave cannot be used; ``one_line(str(error))`` is what a person sees."""


class SettingError(UsageError):
    """A flag or option value that does not parse (``--expect-count many``, ``-H 'no colon'``)."""


class ProfileError(UsageError):
    """A profile that cannot be used (unknown name, bad TOML, unknown key, wrong type or bound)."""


class SelectionError(UsageError):
    """An ``--only`` / ``--skip`` glob that matches no check (a typo is never a silently empty run)."""


class LaunchError(UsageError):
    """The ``--launch`` command could not be started or never became ready."""


class LoadUsageError(UsageError):
    """A load-mode setting that cannot be used (``sse-conformance load``)."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(str(text).split())
