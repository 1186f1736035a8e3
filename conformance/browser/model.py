"""What the real-browser run recorded: data only (checks and reports import it without Playwright)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# EventSource.readyState values
CONNECTING, OPEN, CLOSED = 0, 1, 2
READY_STATES = {CONNECTING: "CONNECTING", OPEN: "OPEN", CLOSED: "CLOSED"}


@dataclass(frozen=True)
class BrowserOptions:
    """How to open the endpoint in Chromium: the page's origin (None: the endpoint's own),
    ``withCredentials``, and an explicit Chromium executable (else the usual search)."""

    origin: str | None = None
    with_credentials: bool = False
    chromium_path: str | None = None
    # --cacert / --insecure: the suite itself verified (or was told not to verify) the certificate;
    # Chromium has no way to trust an extra CA per run, so it is told to accept the certificate.
    accept_certificate: bool = False


@dataclass(frozen=True, slots=True)
class BrowserEvent:
    """One MessageEvent Chromium dispatched (any type: recorded through the DevTools protocol)."""

    type: str
    data: str
    last_event_id: str
    t: float  # seconds since the suite's t0 (the main capture's clock)


@dataclass(frozen=True, slots=True)
class StateChange:
    """An ``open`` or ``error`` event, with ``readyState`` right after it."""

    event: str  # "open" | "error"
    ready_state: int
    t: float

    def describe(self) -> str:
        """``error (readyState CLOSED) t=0.012s``. Never raises."""
        state = READY_STATES.get(self.ready_state, str(self.ready_state))
        return f"{self.event} (readyState {state}) t={self.t:.3f}s"


class ClosedBy(StrEnum):
    """Why the EventSource was closed (the suite never lets it reconnect and run on)."""

    STREAM = "stream"  # Chromium's own error event: the stream ended or was refused
    SUITE = "suite"  # the main capture had ended (sentinel, limit) and the grace ran out
    DEADLINE = "deadline"  # the capture deadline passed
    CRASH = "crash"  # the page or browser went away (``problem`` says how)


@dataclass(frozen=True)
class BrowserRun:
    """One EventSource in headless Chromium: what it dispatched, and what Chromium said."""

    page_url: str
    stream_url: str
    with_credentials: bool
    executable: str
    events: tuple[BrowserEvent, ...] = ()
    states: tuple[StateChange, ...] = ()
    console: tuple[str, ...] = ()  # console messages (Chromium's words for a refusal)
    body: bytes | None = None  # the body bytes Chromium received (None: not available)
    status: int | None = None  # the response status Chromium saw (None: no response)
    closed_by: ClosedBy = ClosedBy.STREAM
    problem: str = ""  # the run itself failed (crash): no verdict on the server

    @property
    def opened(self) -> bool:
        """The ``open`` event fired (Chromium accepted the response). Never raises."""
        return any(s.event == "open" for s in self.states)

    @property
    def origin(self) -> str:
        """The page's origin. Never raises."""
        scheme, _, rest = self.page_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
