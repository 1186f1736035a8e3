"""EventLog: the compact events of a capture read back exactly as recorded (issue 16 point 3)."""

from __future__ import annotations

import tracemalloc

import pytest

from conformance.capture import replay
from conformance.capture.event_log import MAX_INTERNED, EventLog, TimedEvent
from conformance.parser import Event, Parser


def _events(body: bytes) -> list[Event]:
    parser = Parser()
    return [*parser.feed(body)]


def test_every_field_reads_back_as_recorded() -> None:
    body = (
        b"data: a\n\nevent: x\nid: 7\ndata: b\ndata: c\n\nid: 007\ndata:\n\n"
        b"id: \xc3\xa9\ndata: d\r\n\r\nid: 1234567890\ndata: e\n\nid:\ndata: f\n\n"
    )
    events = _events(body)
    log = EventLog()
    for i, event in enumerate(events):
        log.record(event, 0.5 if i < 3 else 1.25)
    want = [TimedEvent(e, 0.5 if i < 3 else 1.25, i) for i, e in enumerate(events)]
    assert len(log) == len(want) == 6
    assert list(log) == want
    assert log == want
    assert want == log
    assert [log[i] for i in range(6)] == want
    assert log[-1] == want[-1]
    assert log[-6] == want[0]
    assert log[1:4] == want[1:4]
    assert log[::-2] == want[::-2]
    assert [e.last_event_id for e in log] == ["", "7", "007", "é", "1234567890", ""]
    with pytest.raises(IndexError):
        log[6]
    with pytest.raises(IndexError):
        log[-7]
    assert log != want[:-1]
    assert repr(log) == "EventLog(6 events)"


def test_hand_built_events_must_be_in_order() -> None:
    event = Event("message", "a", "", 0, 9)
    assert EventLog([TimedEvent(event, 0.0, 0)]) == [TimedEvent(event, 0.0, 0)]
    with pytest.raises(ValueError, match="index 3, expected 0"):
        EventLog([TimedEvent(event, 0.0, 3)])


def test_a_capture_keeps_its_events_as_a_log_and_a_list_becomes_one() -> None:
    cap = replay([(0.1, b"data: a\n\n"), (0.2, b"data: b\n\n")])
    assert isinstance(cap.events, EventLog)
    assert [(e.data, e.t, e.index) for e in cap.events] == [("a", 0.1, 0), ("b", 0.2, 1)]


def test_many_new_strings_are_kept_past_the_interned_ones() -> None:
    log = EventLog()
    for i in range(MAX_INTERNED + 10):
        log.record(Event(f"t{i}", f"d{i}", f"x{i}", i, i + 1), 0.0)
    assert log[-1].event == Event(
        f"t{MAX_INTERNED + 9}",
        f"d{MAX_INTERNED + 9}",
        f"x{MAX_INTERNED + 9}",
        MAX_INTERNED + 9,
        MAX_INTERNED + 10,
    )


def test_tiny_numbered_events_cost_under_22_bytes_each() -> None:
    """16 bytes of columns an event (32-bit offsets), plus the arrays' growth room."""
    body = b"".join(b"id: %d\ndata: z\n\n" % n for n in range(100_000))
    events = _events(body)
    tracemalloc.start()
    try:
        log = EventLog()
        for event in events:
            log.record(event, 0.0)
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size / len(events) < 22, size / len(events)
    assert log[99_999].last_event_id == "99999"


def test_the_html_timeline_thins_a_log_without_repeating_its_last_event() -> None:
    """Each read of an EventLog builds a new TimedEvent: thinning compares places, not objects."""
    from conformance.capture.model import Limits
    from conformance.reports.html import MAX_POINTS, _thin

    for count in (MAX_POINTS * 3 + 1, MAX_POINTS * 3 + 2):
        log = replay([(0.0, b"data: z\n\n" * count)], limits=Limits(max_events=10 * count)).events
        kept = [e.index for e in _thin(log)]
        assert kept[0] == 0
        assert kept[-1] == count - 1
        assert len(kept) == len(set(kept)), "the last event twice"


def test_offsets_past_4_gb_widen_the_column_and_read_back() -> None:
    log = EventLog()
    small = Event("message", "a", "", 7, 16)
    huge = Event("message", "b", "", 5_000_000_000, 5_000_000_009)
    log.record(small, 0.0)
    assert log._offset.itemsize == 4  # 32 bits while the body is under 4 GB
    log.record(huge, 1.0)
    assert [e.event for e in log] == [small, huge]
    assert log.prefix(2)[1].offset == 5_000_000_000
