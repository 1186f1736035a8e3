"""What every check function reads: the main capture, the profile, and the extra captures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.capture.model import Capture, TimedEvent
from conformance.evidence import escape_excerpt
from conformance.models import Evidence, Outcome, skipped
from conformance.parser import Observation, ObservationKind
from conformance.profiles import Profile

if TYPE_CHECKING:  # the reconnecting client imports httpx; checks only read its data
    from conformance.capture.reconnect import ReconnectRun


@dataclass(frozen=True)
class DisconnectRun:
    """stream.disconnect: clients that hung up mid-stream, then one that must get a full stream."""

    aborted: list[Capture] = field(default_factory=list)
    follow_up: Capture | None = None
    follow_up_started: float = 0.0  # seconds after the suite started, when the follow-up began


@dataclass(frozen=True)
class CheckContext:
    capture: Capture
    profile: Profile
    concurrent: list[Capture] | None = None  # None: not run
    disconnect: DisconnectRun | None = None  # None: not run
    # Times (time.monotonic()) and lengths in seconds when the suite's own event loop was late:
    # a machine too busy to read the socket makes a stream look bursty without the server's help.
    suite_stalls: tuple[tuple[float, float], ...] = ()
    reconnect: ReconnectRun | None = None  # reconnect.*: None: not run

    def stalled_between(self, start: float, end: float) -> float:
        """Seconds the suite itself was stalled within [start, end] of the main capture's clock."""
        base = self.capture.started_at
        total = 0.0
        for at, length in self.suite_stalls:
            lo, hi = max(start, at - base - length), min(end, at - base)
            total += max(0.0, hi - lo)
        return total


MAX_EVIDENCE = 5  # a report shows the first few places; the reason says how many there were


def body_evidence(
    capture: Capture, offset: int, length: int = 48, t: float | None = None
) -> Evidence:
    return Evidence(offset, escape_excerpt(capture.excerpt_at(offset, length + 1), length), t)


def event_evidence(capture: Capture, event: TimedEvent, length: int = 48) -> Evidence:
    return body_evidence(capture, event.offset, length, event.t)


def observation_evidence(obs: Observation) -> Evidence:
    return Evidence(obs.offset, escape_excerpt(obs.excerpt))


def header_evidence(name: str, value: str | None) -> Evidence:
    text = f"{name}: {value}" if value is not None else f"(no {name} header)"
    return Evidence(None, escape_excerpt(text.encode("latin-1", "replace"), 120))


def observations(capture: Capture, *kinds: ObservationKind) -> list[Observation]:
    return [o for o in capture.observations if o.kind in kinds]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def not_a_stream(ctx: CheckContext) -> Outcome | None:
    """A skip for checks browsers never reach: EventSource stops at a missing or non-200 response."""
    cap = ctx.capture
    if cap.status is None:
        return skipped(f"no response ({cap.end_reason}); http.status reports it")
    if cap.status != 200:
        return skipped(f"not judged: status {cap.status} (EventSource stops there; http.status)")
    return None
