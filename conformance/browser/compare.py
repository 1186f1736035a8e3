"""Chromium's events against the spec's, pure: what ``browser.eventsource`` and the HTML report
read.

The spec's events are the suite's parser run over the very bytes Chromium received (recorded
through the DevTools protocol), so a live stream whose values differ from one connection to the
next (timestamps, samples) is compared with itself; when those bytes are not available, the main
capture's events are the reference.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from conformance.browser.model import BrowserEvent, BrowserRun, ClosedBy
from conformance.capture.model import Capture
from conformance.parser import ObservationKind, parse_all

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class SpecEvent:
    """An event the spec dispatches for the bytes, with its raw byte offset."""

    type: str
    data: str
    last_event_id: str
    offset: int


@dataclass(frozen=True)
class Expected:
    """The spec's events for the browser's connection, and where they come from."""

    events: tuple[SpecEvent, ...]
    from_browser_bytes: bool  # decoded from the bytes Chromium received (else the main capture)
    same_bytes: bool  # those bytes are the suite's capture's (offsets point into both)
    bom_bare_line_end: bool  # a BOM followed by LF or a lone CR (Chromium drops the first block)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the side-by-side view: the spec's event and Chromium's (None: no counterpart)."""

    spec: SpecEvent | None
    browser: BrowserEvent | None

    @property
    def same(self) -> bool:
        """Both present and equal in type, data and lastEventId. Never raises."""
        return (
            self.spec is not None
            and self.browser is not None
            and key(self.spec) == key(self.browser)
        )


def key(event: SpecEvent | BrowserEvent) -> tuple[str, str, str]:
    """What must be equal: type, data, lastEventId. Never raises."""
    return (event.type, event.data, event.last_event_id)


def expected(run: BrowserRun, capture: Capture) -> Expected:
    """The spec's events for ``run``'s connection. Never raises."""
    if run.body is not None:
        events, parser = parse_all(run.body)
        kinds = {o.kind for o in parser.observations}
        spec = tuple(SpecEvent(e.type, e.data, e.last_event_id, e.offset) for e in events)
        body = capture.body
        same = bool(run.body) and (body.startswith(run.body) or run.body.startswith(body))
        return Expected(spec, True, same, ObservationKind.BOM_BARE_LINE_END in kinds)
    spec = tuple(SpecEvent(e.type, e.data, e.last_event_id, e.offset) for e in capture.events)
    bare = any(o.kind is ObservationKind.BOM_BARE_LINE_END for o in capture.observations)
    return Expected(spec, False, True, bare)


def compared(
    expect: Expected, run: BrowserRun
) -> tuple[tuple[SpecEvent, ...], tuple[BrowserEvent, ...]]:
    """The two lists to hold equal. When the suite closed the source (the main capture ended
    first, or the deadline), only the common length is judged: events after the close are not
    dispatched, and an endless stream has no last event. Never raises."""
    spec, browser = expect.events, run.events
    if run.closed_by is not ClosedBy.STREAM:
        n = min(len(spec), len(browser))
        spec, browser = spec[:n], browser[:n]
    return spec, browser


def first_difference(
    spec: tuple[SpecEvent, ...], browser: tuple[BrowserEvent, ...]
) -> tuple[int, SpecEvent | None, BrowserEvent | None] | None:
    """The first index where the lists differ (an event on one side only: None on the other),
    or None when equal. Never raises."""
    for index in range(max(len(spec), len(browser))):
        s = spec[index] if index < len(spec) else None
        b = browser[index] if index < len(browser) else None
        if s is None or b is None or key(s) != key(b):
            return index, s, b
    return None


def dropped_first_only(spec: tuple[SpecEvent, ...], browser: tuple[BrowserEvent, ...]) -> bool:
    """Chromium's events are the spec's without the first one (its BOM + LF deviation). Never
    raises."""
    return bool(spec) and first_difference(spec[1:], browser) is None


def rows(expect: Expected, run: BrowserRun) -> list[Row]:
    """The two columns aligned (a dropped or extra event leaves a gap, not a shift). Never raises."""
    spec, browser = expect.events, run.events
    matcher = difflib.SequenceMatcher(
        None, [key(e) for e in spec], [key(e) for e in browser], autojunk=False
    )
    out: list[Row] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [
                Row(spec[i], browser[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        pairs = max(i2 - i1, j2 - j1) if tag == "replace" else 0
        if tag == "replace" and i2 - i1 == j2 - j1:
            out += [Row(spec[i1 + k], browser[j1 + k]) for k in range(pairs)]
            continue
        out += [Row(spec[i], None) for i in range(i1, i2)]
        out += [Row(None, browser[j]) for j in range(j1, j2)]
    return out


def describe(event: SpecEvent | BrowserEvent | None, limit: int = 80) -> str:
    """``message id='' data='...'`` (cut at ``limit``), or ``(none)``. Never raises."""
    if event is None:
        return "(none)"
    data = event.data if len(event.data) <= limit else event.data[: limit - 1] + "…"
    return f"{event.type} id={event.last_event_id!r} data={data!r}"
