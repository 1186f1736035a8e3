"""One HTTP run of an SSE endpoint, recorded in full so every check can judge the same evidence.

- :mod:`conformance.capture.model`: the data (``Capture``, ``EndReason``, ``Limits``, ...), no I/O;
- :mod:`conformance.capture.recorder`: bytes in, a filled ``Capture`` out (sans-IO; ``replay``);
- :mod:`conformance.capture.http`: the live capture over httpx (imported on its own, so that the
  model and the recorder never pull in an HTTP client).
"""

from conformance.capture.model import (
    Capture,
    CaptureFn,
    CaptureRequest,
    Chunk,
    EndReason,
    EventLog,
    IsLast,
    Limits,
    OnChunk,
    Redirect,
    TimedEvent,
)
from conformance.capture.recorder import Recorder, replay

__all__ = [
    "Capture",
    "CaptureFn",
    "CaptureRequest",
    "Chunk",
    "EndReason",
    "EventLog",
    "IsLast",
    "Limits",
    "OnChunk",
    "Recorder",
    "Redirect",
    "TimedEvent",
    "replay",
]
