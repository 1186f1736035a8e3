"""Hand-built captures for check tests: bytes with arrival times in, a Capture out (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from conformance import checks
from conformance.capture import Capture, EndReason, replay
from conformance.checks.context import CheckContext, DisconnectRun
from conformance.models import Result
from conformance.profiles import Profile, load_profile

SSE = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
STARTING = "Starting system RAM monitoring..."
SENTINEL = "RAM monitoring completed"


def sample(i: int, percent: float = 41.5, total: float = 16.0) -> str:
    used = total * percent / 100
    return f"2026-11-25 17:29:{i:02d} - RAM usage: {percent}% ({used:.2f}GB / {total:.2f}GB)"


def ram_messages(samples: int = 20) -> list[str]:
    return [STARTING, *(sample(i) for i in range(samples)), SENTINEL]


def frame(messages: Sequence[str], *, as_json: bool = True) -> list[bytes]:
    """One ``data:`` block per message, LF framing, JSON-encoded like the demo."""
    return [f"data: {json.dumps(m) if as_json else m}\n\n".encode() for m in messages]


def timed(
    blocks: Sequence[bytes], interval: float = 0.05, start: float = 0.01
) -> list[tuple[float, bytes]]:
    return [(start + i * interval, b) for i, b in enumerate(blocks)]


def make(
    chunks: Sequence[tuple[float, bytes]] | bytes,
    *,
    profile: Profile | None = None,
    status: int | None = 200,
    headers: Sequence[tuple[str, str]] = SSE,
    end_reason: EndReason = EndReason.CLOSED,
    t_end: float | None = None,
) -> tuple[Capture, Profile]:
    profile = profile or load_profile("generic")
    if isinstance(chunks, bytes):
        chunks = [(0.01, chunks)]
    cap = replay(
        chunks,
        status=status,
        headers=headers,
        end_reason=end_reason,
        t_end=t_end,
        is_last=profile.is_last,
        limits=profile.limits,
    )
    return cap, profile


def run_check(
    check_id: str,
    cap: Capture,
    profile: Profile,
    *,
    concurrent: list[Capture] | None = None,
    disconnect: DisconnectRun | None = None,
    suite_stalls: tuple[tuple[float, float], ...] = (),
) -> Result:
    spec = checks.get(check_id)
    return spec.result(spec.fn(CheckContext(cap, profile, concurrent, disconnect, suite_stalls)))


def ram_profile(**overrides: object) -> Profile:
    return load_profile("ram-monitor").replace(**overrides)
