"""The extra clients keep what the main capture does not hold, and judge as if whole (issue 16
point 3): conformance/capture/lean.py.

Each case replays one body as the main capture and another (the same, cut, diverging, read in
other pieces) as an extra client in the lean context, rehydrates it, and compares it with the
same extra client recorded whole: same events (the same times), same bytes, same findings.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from conformance.capture import replay
from conformance.capture.lean import LEAN_MAIN, LeanLog, MainBody, rehydrate
from conformance.capture.model import Capture, EndReason, Limits

LIMITS = Limits(max_events=1_000_000, max_bytes=10_000_000)


def _pieces(body: bytes, cuts: Sequence[int], t0: float = 0.0) -> list[tuple[float, bytes]]:
    edges = [0, *sorted(c for c in cuts if 0 < c < len(body)), len(body)]
    return [(t0 + 0.01 * i, body[a:b]) for i, (a, b) in enumerate(itertools.pairwise(edges))]


def _lean(chunks: list[tuple[float, bytes]], main: MainBody, **kw: object) -> Capture:
    token = LEAN_MAIN.set(main)
    try:
        return replay(chunks, limits=LIMITS, **kw)  # type: ignore[arg-type]
    finally:
        LEAN_MAIN.reset(token)


def _same(got: Capture, want: Capture) -> None:
    assert list(got.events) == list(want.events)
    assert len(got.events) == len(want.events)
    assert got.body == want.body
    assert got.decoded_bytes == want.decoded_bytes
    assert got.observations == want.observations
    assert got.last_event_id == want.last_event_id
    assert list(got.events.time_runs()) == list(want.events.time_runs())


BODY = b"".join(b"id: %d\ndata: x%d\n\n" % (i, i) for i in range(300)) + b": c\r\ndata: end\r\n\r\n"


def test_an_extra_client_with_the_main_stream_keeps_no_byte_and_rehydrates_exactly() -> None:
    main = replay(_pieces(BODY, [100, 2000, 4000]), limits=LIMITS)
    extra_chunks = _pieces(BODY, [7, 999, 1000, 3333], t0=0.5)
    lean = _lean(extra_chunks, MainBody(main))
    log = lean.events
    assert isinstance(log, LeanLog)
    assert log.whole_prefix  # every read compared with the main body and dropped
    assert len(lean.events) == len(main.events)
    with pytest.raises(RuntimeError, match="rehydrated"):
        list(lean.events)
    rehydrate(lean, main)
    _same(lean, replay(extra_chunks, limits=LIMITS))
    assert lean.events._offset is main.events._offset  # the columns are shared, not copied


def test_reads_ahead_of_the_main_capture_are_kept_until_it_catches_up() -> None:
    main = replay(_pieces(BODY, [100, 2000, 4000]), limits=LIMITS)
    growing = Capture(request=main.request)
    body = MainBody(growing)
    extra_chunks = _pieces(BODY, [1500, 3000])
    lean = _lean(extra_chunks[:2], body)
    log = lean.events
    assert isinstance(log, LeanLog)
    assert log.own(0) is not None  # the main capture has no byte yet
    growing.chunks = main.chunks[:2]  # now 2000 bytes: the first read (1500) is there
    log.compare()
    assert log.own(0) is None
    assert log.own(1) is not None  # 1500..3000: not all there yet
    growing.chunks = list(main.chunks)
    log.compare()
    assert log.whole_prefix


@pytest.mark.parametrize(
    ("extra_body", "end"),
    [
        (BODY[:2500], EndReason.DEADLINE),  # cut short: a prefix
        (BODY[:2500] + b"data: other\n\n" + BODY[2500:], EndReason.CLOSED),  # diverging
        (b"data: another stream\n\n" * 40, EndReason.CLOSED),  # another stream from the start
        (BODY + b"data: more than the main\n\n", EndReason.CLOSED),  # longer than the main
        (b"", EndReason.CLOSED),
    ],
)
def test_a_cut_diverging_or_longer_extra_stream_rehydrates_exactly(
    extra_body: bytes, end: EndReason
) -> None:
    main = replay(_pieces(BODY, [100, 2000, 4000]), limits=LIMITS)
    extra_chunks = _pieces(extra_body, [10, 1800, 2600, 4100], t0=0.2)
    lean = _lean(extra_chunks, MainBody(main), end_reason=end)
    rehydrate(lean, main)
    _same(lean, replay(extra_chunks, limits=LIMITS, end_reason=end))


def test_random_bodies_pieces_and_divergences_rehydrate_exactly() -> None:
    rng = random.Random(16)
    atoms = [b"data: a\n", b"\n", b"\r\n", b"id: 7\n", b": c\n", b"data: \xc3\xa9\r", b"event: x\n"]
    for _ in range(150):
        body = b"".join(rng.choice(atoms) for _ in range(rng.randrange(0, 60)))
        other = bytearray(body[: rng.randrange(0, len(body) + 1)])
        if rng.random() < 0.5:
            other += b"".join(rng.choice(atoms) for _ in range(rng.randrange(0, 20)))
        main = replay(_pieces(body, rng.sample(range(1, 400), 5)), limits=LIMITS)
        extra_chunks = _pieces(bytes(other), rng.sample(range(1, 400), 6))
        lean = _lean(extra_chunks, MainBody(main))
        rehydrate(lean, main)
        _same(lean, replay(extra_chunks, limits=LIMITS))


def test_main_body_compares_across_its_chunks_and_says_when_it_has_not_got_there() -> None:
    main = replay(_pieces(b"0123456789", [3, 6]), limits=LIMITS)
    body = MainBody(main)
    assert body.same(2, b"2345678") is True
    assert body.same(2, b"2345X78") is False
    assert body.same(8, b"89A") is None  # not there yet
    body.done = True
    assert body.same(8, b"89A") is False  # the main capture ended: never
    assert MainBody().same(0, b"x") is None


def test_a_capture_outside_the_lean_context_is_left_as_it_is() -> None:
    main = replay(_pieces(BODY, [100]), limits=LIMITS)
    plain = replay(_pieces(BODY, [50]), limits=LIMITS)
    events = plain.events
    rehydrate(plain, main)
    assert plain.events is events
    assert not isinstance(events, LeanLog)
