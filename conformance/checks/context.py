"""What every check function reads: the main capture, the profile, and the extra captures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.browser.model import BrowserRun
from conformance.capture.decoding import IDENTITY
from conformance.capture.model import Capture, EndReason, TimedEvent
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
    # what was left of the run's deadline for the follow-up (None: the whole deadline)
    follow_up_deadline: float | None = None

    def captures(self) -> list[Capture]:
        """Every capture of the run, aborted ones first (for the report). Never raises."""
        return [*self.aborted, *([self.follow_up] if self.follow_up is not None else [])]


@dataclass(frozen=True)
class CheckContext:
    """One run's evidence for the checks. The extra captures are named after the ``needs`` of the
    checks that read them (the runner fills each from its job of the same name)."""

    capture: Capture
    profile: Profile
    concurrent: list[Capture] | None = None  # None: not run
    disconnect: DisconnectRun | None = None  # None: not run
    # Times (time.monotonic()) and lengths in seconds when the suite's own event loop was late:
    # a machine too busy to read the socket makes a stream look bursty without the server's help.
    suite_stalls: tuple[tuple[float, float], ...] = ()
    # Records of application contracts' follow-up jobs, keyed by a check's ``needs`` name (e.g.
    # "mcp": the session an MCP driver ran after the main capture); absent: not run.
    extra: Mapping[str, object] = field(default_factory=dict)
    reconnect: ReconnectRun | None = None  # reconnect.*: None: not run
    # --browser: what a native EventSource in headless Chromium dispatched; None: not run
    browser: BrowserRun | None = None

    def stalled_between(self, start: float, end: float) -> float:
        """Seconds the suite itself was stalled within [start, end] of the main capture's clock.
        Never raises."""
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
    """Evidence at a body offset: the escaped bytes from there (at most ``length``). Never raises."""
    return Evidence(offset, escape_excerpt(capture.excerpt_at(offset, length + 1), length), t)


def event_evidence(capture: Capture, event: TimedEvent, length: int = 48) -> Evidence:
    """Evidence at an event's first byte, with its arrival time. Never raises."""
    return body_evidence(capture, event.offset, length, event.t)


def observation_evidence(obs: Observation) -> Evidence:
    """Evidence of a parser observation: its offset and raw excerpt. Never raises."""
    return Evidence(obs.offset, escape_excerpt(obs.excerpt))


def header_evidence(name: str, value: str | None) -> Evidence:
    """Evidence for a header (or its absence), shown as ``[http]``. Never raises."""
    text = f"{name}: {value}" if value is not None else f"(no {name} header)"
    return Evidence(None, escape_excerpt(text.encode("latin-1", "replace"), 120))


def observations(capture: Capture, *kinds: ObservationKind) -> list[Observation]:
    """The capture's parser observations of the given kinds, in stream order. Never raises."""
    return [o for o in capture.observations if o.kind in kinds]


def compression(capture: Capture) -> str | None:
    """The response's Content-Encoding when it names a compression (not absent, empty or
    ``identity``), as sent. Never raises."""
    value = capture.content_encoding
    if value is None or value.strip().lower() in IDENTITY:
        return None
    return value


def plural(n: int, word: str) -> str:
    """ "1 event", "2 events". Never raises."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# Profile option (``[options] json_answer_ok = true``): a 200 ``application/json`` answer is as valid
# as a stream (MCP Streamable HTTP lets a server answer a POST either way). The SSE checks then
# skip with a reason and the contract's own checks judge the JSON.
JSON_ANSWER_OK = "json_answer_ok"


def json_answer(ctx: CheckContext) -> bool:
    """True when the main capture is a 200 JSON answer that the profile accepts instead of a stream."""
    cap = ctx.capture
    if not ctx.profile.options.get(JSON_ANSWER_OK) or cap.status != 200:
        return False
    value = cap.header("content-type") or ""
    return value.split(";")[0].strip().lower() == "application/json"


def expected_events(ctx: CheckContext) -> Sequence[TimedEvent]:
    """The events the profile's expectations are about: those of ``event_type`` (the page's
    ``onmessage`` sees only ``message``; a listener only its own type), or every event when no
    type is set (``*``): then the capture's own log, not a list of a million built events.
    Payload and contract checks judge these and no others. Never raises."""
    expected = ctx.profile.event_type
    events = ctx.capture.events
    return events if expected is None else [e for e in events if e.type == expected]


def require_expected(ctx: CheckContext) -> Outcome | None:
    """The guard of the checks that judge :func:`expected_events`: :func:`require_stream`, then
    a skip when events came but none of the expected type (payload.event-type is the one verdict
    that says so; counting them as missing would repeat it in every payload check). Never raises."""
    if (early := require_stream(ctx)) is not None:
        return early
    events = ctx.capture.events
    if events and not expected_events(ctx):
        types = ", ".join(sorted({repr(e.type) for e in events})[:5])
        return skipped(
            f"no {ctx.profile.event_type!r} event among {plural(len(events), 'event')} "
            f"(types {types}; payload.event-type reports it)"
        )
    return None


def require_stream(
    ctx: CheckContext, *, body: bool = False, head_only: bool = False
) -> Outcome | None:
    """The one guard "is this a 200 stream at all?": a skip when it is not, else None.

    Browsers never get past a missing or non-200 response (EventSource stops there), so checks of
    what a page would see are not judged; http.status reports why. Nor past a body they cannot
    decode (Chromium fails the request): unless ``head_only`` (checks of the headers alone),
    that is skipped too and http.content-encoding is the one verdict. With ``body=True`` a 200
    with no body byte at all is skipped too (checks of the bytes have nothing to read).
    Never raises.

    A JSON answer that the profile accepts (:data:`JSON_ANSWER_OK`) is skipped too: it is valid,
    and it is not an event stream to judge.
    """
    cap = ctx.capture
    if cap.status is None:
        return skipped(f"no response ({cap.end_reason}); http.status reports it")
    if cap.status != 200:
        return skipped(f"not judged: status {cap.status} (EventSource stops there; http.status)")
    if not head_only and cap.end_reason is EndReason.DECODE_ERROR:
        return skipped("the body cannot be decoded (http.content-encoding reports it)")
    if body and not cap.chunks:
        return skipped(f"no body to judge ({cap.end_reason})")
    if json_answer(ctx):
        return skipped(
            "a JSON answer (application/json), valid for this profile: no stream to judge"
        )
    return None
