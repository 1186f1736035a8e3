"""Deliberately broken pages, to prove the browser tests catch what they claim to catch.

A test suite that passes is only evidence if it would fail on a broken page. Each mutant here
breaks one behaviour the issue asks for; ``--broken-page NAME`` (or ``E2E_BROKEN_PAGE=NAME``) runs
the whole suite against it, and ``test_broken_pages.py`` runs the tests named in
``expected_failures`` against each one and asserts that each fails, with the words given (the
right test, for the right reason).

Two mechanisms, so both a change in the page's code and a change in its environment are covered:

* ``script`` mutants run before the page's own scripts (Playwright init script) and patch the
  browser API the page relies on. They need no knowledge of the page's code, and work against
  any deployment (``--base-url``).
* ``edit`` mutants serve a modified copy of ``reference/static/`` (setting ``static_dir``):
  a literal text replacement in one file, which must match, or the run stops with one line.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TextEdit:
    file: str  # relative to reference/static/
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    # (test function, words of its failure message): the test that must fail, and why.
    expected_failures: tuple[tuple[str, str], ...]
    script: str | None = None
    edit: TextEdit | None = None


class MutantError(Exception):
    """One printable line: the named mutant does not exist or no longer applies."""


NEVER_CLOSE = Mutant(
    name="never-close",
    description="EventSource.close() does nothing: the page never closes its connection",
    expected_failures=(
        ("test_no_reconnect_after_completion", "the browser asked for the stream again"),
        ("test_stop_mid_stream_closes_the_stream", "read to its end, not cancelled"),
        (
            "test_server_death_shows_error_without_reconnect_storm",
            "kept reconnecting after the server died",
        ),
    ),
    script="EventSource.prototype.close = function () {};",
)

IGNORE_SENTINEL = Mutant(
    name="ignore-sentinel",
    description="the page never sees the sentinel message (so never completes on it)",
    expected_failures=(("test_full_run", "not completed"),),
    # A listener added in the constructor runs before the page's own ``onmessage`` (listeners run
    # in the order they were added), so stopping propagation there hides the sentinel from it.
    script="""
(() => {
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      this.addEventListener('message', (event) => {
        let text = null;
        try { text = JSON.parse(event.data); } catch (e) { return; }
        if (text === 'RAM monitoring completed') event.stopImmediatePropagation();
      });
    }
  };
})();
""",
)

SENTINEL_KEEPS_OPEN = Mutant(
    name="sentinel-keeps-open",
    description="app.js with the close() on the sentinel removed (the demo's classic bug)",
    expected_failures=(("test_full_run", "not completed"),),
    edit=TextEdit(
        file="app.js",
        old='this.closeSource();\n        this.status = "completed";',
        new='this.status = "completed";',
    ),
)

STOP_KEEPS_STREAMING = Mutant(
    name="stop-keeps-streaming",
    description="app.js whose Stop button changes the status but leaves the stream open",
    expected_failures=(("test_stop_mid_stream_closes_the_stream", "the page went on after Stop"),),
    edit=TextEdit(
        file="app.js",
        old='this.closeSource();\n      this.status = "stopped";',
        new='this.status = "stopped";',
    ),
)

MUTANTS: dict[str, Mutant] = {
    m.name: m for m in (NEVER_CLOSE, IGNORE_SENTINEL, SENTINEL_KEEPS_OPEN, STOP_KEEPS_STREAMING)
}


def get_mutant(name: str) -> Mutant:
    try:
        return MUTANTS[name]
    except KeyError:
        known = ", ".join(sorted(MUTANTS))
        raise MutantError(f"unknown broken page {name!r}; known: {known}") from None


def make_broken_copy(mutant: Mutant, source: Path, destination: Path) -> Path:
    """Copy ``source`` (reference/static/) to ``destination`` with the mutant's edit applied."""
    if mutant.edit is None:
        raise MutantError(f"broken page {mutant.name!r} has no static edit")
    shutil.copytree(source, destination)
    target = destination / mutant.edit.file
    if not target.is_file():
        raise MutantError(f"broken page {mutant.name!r}: {mutant.edit.file} not in {source}")
    text = target.read_text(encoding="utf-8")
    if text.count(mutant.edit.old) != 1:
        raise MutantError(
            f"broken page {mutant.name!r}: {mutant.edit.old!r} is not found exactly once in "
            f"{mutant.edit.file}; the page changed, update e2e/broken.py"
        )
    target.write_text(text.replace(mutant.edit.old, mutant.edit.new), encoding="utf-8")
    return destination
