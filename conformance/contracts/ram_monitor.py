"""The RAM monitor contract: the stream of the FastAPI + Vue RAM demo and of this repo's reference.

22 JSON-encoded strings: the greeting, samples ``YYYY-MM-DD HH:MM:SS - RAM usage: P% (U.UUGB /
T.TTGB)`` one per interval, then the sentinel. Its constants are written here again on purpose,
apart from ``reference/``: the thing judged must not share code with its judge. Enabled by a
profile with ``contract = "ram-monitor"`` (the built-in ``ram-monitor`` profile, beside this file).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from conformance.capture.model import TimedEvent
from conformance.checks.context import (
    MAX_EVIDENCE,
    CheckContext,
    event_evidence,
    expected_events,
    plural,
    require_expected,
)
from conformance.checks.payload import ended
from conformance.checks.registry import READS_EXPECTED, check
from conformance.checks.spec_links import SPEC_EVENTSOURCE
from conformance.models import Outcome, Severity, passed, problem, skipped

CONTRACT = "ram-monitor"
RAM_FIRST = "Starting system RAM monitoring..."
RAM_SAMPLE = re.compile(
    r"(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) - RAM usage: "
    r"(?P<p>\d+(?:\.\d+)?)% \((?P<u>\d+(?:\.\d+)?)GB / (?P<t>\d+(?:\.\d+)?)GB\)"
)


@dataclass(frozen=True)
class RamSample:
    at: datetime
    percent: float
    used_gb: float
    total_gb: float


def parse_ram_sample(text: str) -> RamSample | str:
    """A sample, or a one-line reason it is not one. Never raises."""
    match = RAM_SAMPLE.fullmatch(text)
    if match is None:
        return "not 'YYYY-MM-DD HH:MM:SS - RAM usage: P% (U.UUGB / T.TTGB)'"
    try:
        at = datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return f"bad timestamp {match['ts']!r}"
    p, u, t = float(match["p"]), float(match["u"]), float(match["t"])
    if not 0 <= p <= 100:
        return f"percent {p} outside 0..100"
    if u > t:
        return f"used {u}GB > total {t}GB"
    # U and T are printed to 0.01 and P to 0.1: allow each rounding once.
    tolerance = 0.005 + 0.005 + t * 0.0005 + 1e-9
    if not math.isclose(u, t * p / 100, abs_tol=tolerance):
        return f"used {u}GB != {t}GB x {p}% = {t * p / 100:.3f}GB"
    return RamSample(at, p, u, t)


@check(
    "payload.ram-format",
    "RAM monitor messages: greeting, well-formed samples, sentinel",
    SPEC_EVENTSOURCE,
    Severity.MUST,
    per_client=True,
    reads=READS_EXPECTED,
    doc="""skip: the profile does not use the RAM monitor format. pass: the first message is
    "Starting system RAM monitoring...", then expect_count-2 samples
    'YYYY-MM-DD HH:MM:SS - RAM usage: P% (U.UUGB / T.TTGB)' with 0<=P<=100, U<=T, U=T*P/100 within
    rounding, timestamps non-decreasing. fail: the first bad message, with its reason.""",
)
def ram_format(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    profile = ctx.profile
    if profile.contract != CONTRACT:
        return skipped("profile does not use the RAM monitor format")
    if (early := require_expected(ctx)) is not None:
        return early
    cap = ctx.capture
    events = expected_events(ctx)
    if not events:
        return problem(f"no messages ({ended(cap)})")
    first = profile.decoded(events[0].data)
    if first != RAM_FIRST:
        return problem(
            f"the first message is not the greeting {RAM_FIRST!r}", event_evidence(cap, events[0])
        )
    body = events[1:]
    if body and profile.is_sentinel(body[-1].data):
        body = body[:-1]
    bad: list[tuple[TimedEvent, str]] = []
    previous: RamSample | None = None
    for event in body:
        decoded = profile.decoded(event.data)
        sample = parse_ram_sample(decoded) if isinstance(decoded, str) else "not a string message"
        if isinstance(sample, str):
            bad.append((event, sample))
            continue
        if previous is not None and sample.at < previous.at:
            bad.append((event, f"timestamp {sample.at} earlier than the previous {previous.at}"))
        previous = sample
    if bad:
        first_bad, why = bad[0]
        return problem(
            f"{len(bad)} bad sample(s); event {first_bad.index + 1}: {why}",
            *(event_evidence(cap, e) for e, _ in bad[:MAX_EVIDENCE]),
        )
    if profile.expect_count is not None and len(body) != profile.expect_count - 2:
        return problem(f"{len(body)} samples, expected {profile.expect_count - 2} ({ended(cap)})")
    return passed(f"greeting and {plural(len(body), 'well-formed sample')}")
