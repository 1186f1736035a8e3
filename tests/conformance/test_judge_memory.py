"""Judging a big capture builds no list of its events (issue 16 point 3, the whole check set).

A million tiny events are ~24 MB as an EventLog but ~250 MB as built TimedEvents: a check that
makes a list of them (stream.incremental's bursts, stream.disconnect's patience, the payload
checks' expected events, the cut-short stand-in of stream.disconnect) costs ten times the
capture. Each test judges 200,000 events (80 reads) and bounds what judging allocates.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Callable

import pytest

from conformance.capture import replay
from conformance.capture.event_log import EventLog, TimedEvent, time_runs
from conformance.capture.model import Capture, EndReason, Limits
from conformance.checks.clients import follow_up_patience
from conformance.checks.context import CheckContext, DisconnectRun
from conformance.checks.stream import bursts
from conformance.profiles import Profile
from tests.conformance.suite_helpers import run_check

COUNT = 200_000
READS = 80
BUILT = 200  # bytes a built TimedEvent (with its Event) costs at least: a list of them is over


def _big() -> Capture:
    per = COUNT // READS
    chunks = [(0.01 * i, b"data: z\n\n" * per) for i in range(READS)]
    return replay(chunks, limits=Limits(max_events=10 * COUNT, max_bytes=10 * 9 * COUNT))


def _allocated(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def _old_bursts(events: list[TimedEvent], gap: float) -> list[list[TimedEvent]]:
    out: list[list[TimedEvent]] = []
    for event in events:
        if out and event.t - out[-1][-1].t <= gap:
            out[-1].append(event)
        else:
            out.append([event])
    return out


def test_bursts_stream_over_the_reads_and_agree_with_the_list_of_lists() -> None:
    rng = random.Random(7)
    for _ in range(200):
        t, events = 0.0, []
        for i in range(rng.randrange(1, 40)):
            t += rng.choice((0.0, 0.0, 0.01, 0.04, 0.05, 0.06, 0.3))
            events.append(TimedEvent(replay([(0, b"data: a\n\n")]).events[0].event, t, i))
        gap = rng.choice((0.05, 0.1))
        for seq in (events, EventLog(events)):
            found = bursts(seq, gap)
            old = _old_bursts(events, gap)
            largest = max(old, key=len)
            assert found is not None
            assert found.groups == len(old)
            assert found.largest.first == largest[0].index
            assert found.largest.count == len(largest)
            assert found.largest.reads == len({e.t for e in largest})
            assert (found.largest.t_first, found.largest.t_last) == (largest[0].t, largest[-1].t)
    assert bursts([], 0.05) is None


def test_time_runs_of_a_log_and_of_a_list_agree() -> None:
    cap = replay([(0.1, b"data: a\n\ndata: b\n\n"), (0.2, b"data: c\n"), (0.3, b"\n")])
    runs = [(0.1, 0, 2), (0.3, 2, 3)]
    assert list(time_runs(cap.events)) == runs
    assert list(time_runs(list(cap.events))) == runs


def test_stream_incremental_judges_200k_events_without_building_them() -> None:
    cap = _big()
    assert len(cap.events) == COUNT
    assert run_check("stream.incremental", cap, Profile()).verdict.value == "pass"  # imports
    peak = _allocated(lambda: run_check("stream.incremental", cap, Profile()))
    assert peak < COUNT * BUILT / 20, peak


def test_the_follow_up_patience_reads_gaps_between_reads() -> None:
    cap = _big()
    profile = Profile()
    assert follow_up_patience(cap, profile) == max(
        profile.first_event_timeout, 1.25 * (cap.events[0].t + 0.01)
    )
    assert _allocated(lambda: follow_up_patience(cap, profile)) < COUNT * BUILT / 20


def test_payload_checks_judge_200k_expected_events_without_a_list_of_them() -> None:
    cap = _big()
    profile = Profile(expect_count=COUNT, sentinel="never")
    assert run_check("payload.count", cap, profile).verdict.value == "pass"
    peak = _allocated(lambda: run_check("payload.count", cap, profile))
    assert peak < COUNT * BUILT / 20, peak


def test_a_cut_short_stand_in_copies_columns_not_events() -> None:
    cap = _big()
    cut = cap.events.prefix(COUNT // 2)
    assert len(cut) == COUNT // 2
    assert cut[-1] == cap.events[COUNT // 2 - 1]
    assert list(time_runs(cut))[-1] == (0.39, COUNT // 2 - 2500, COUNT // 2)
    assert cap.events.prefix(0) == []
    assert cap.events.prefix(10 * COUNT) == cap.events[:]
    peak = _allocated(lambda: cap.events.prefix(COUNT // 2))
    assert peak < COUNT // 2 * 30, peak  # its columns: ~24 bytes an event


def test_stream_disconnect_judges_a_cut_follow_up_of_200k_events_in_bounded_memory() -> None:
    main = _big()
    follow = replay(
        [(0.01 * i, b"data: z\n\n" * (COUNT // READS)) for i in range(READS // 2)],
        end_reason=EndReason.DEADLINE,
        limits=Limits(max_events=10 * COUNT, max_bytes=10 * 9 * COUNT),
    )
    aborted = replay([(0.0, b"data: z\n\n")], end_reason=EndReason.ABORTED)
    run = DisconnectRun([aborted], follow, 0.1, 30.0)
    profile = Profile(disconnect_clients=1)
    spec_ctx = CheckContext(main, profile, disconnect=run)
    from conformance import checks

    spec = checks.get("stream.disconnect")
    assert spec.result(spec.fn(spec_ctx)).verdict.value == "pass"
    peak = _allocated(lambda: spec.fn(spec_ctx))
    assert peak < COUNT * BUILT / 4, peak


def _numbered() -> Capture:
    per = COUNT // READS
    chunks = [
        (0.01 * r, b"".join(b"id: %d\ndata: z\n\n" % (r * per + i) for i in range(per)))
        for r in range(READS)
    ]
    return replay(chunks, limits=Limits(max_events=10 * COUNT, max_bytes=40 * COUNT))


def test_reconnect_ids_judges_200k_numbered_events_in_one_pass_keeping_none() -> None:
    cap = _numbered()
    result = run_check("reconnect.ids", cap, Profile())
    assert result.reason == "every event carries its own id (first '0', last '199999')"
    peak = _allocated(lambda: run_check("reconnect.ids", cap, Profile()))
    assert peak < COUNT * BUILT / 20, peak


def test_payload_event_type_reads_the_types_from_the_log_without_building_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conformance.capture import event_log

    cap = replay(
        [(0.0, b"data: a\n\nevent: x\ndata: b\n\n" * 1000)], limits=Limits(max_events=10**6)
    )
    assert cap.events.types() == {e.type for e in cap.events} == {"message", "x"}
    built = [0]
    original = event_log.make_event  # type: ignore[attr-defined]

    def counting(*args: object) -> object:
        built[0] += 1
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(event_log, "make_event", counting)
    result = run_check("payload.event-type", cap, Profile())
    assert result.reason == "no event type expected (set event_type / --event-type)"
    assert built[0] == 0
