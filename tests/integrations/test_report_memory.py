"""The reports of a million-event capture stay small in memory (issue 16 point 3): the JSON report
writes the main capture's events one by one (the same file as one json.dumps of the whole
report, without holding a million events as one text); the HTML timeline reads their times by
reads."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from conformance.capture import Capture, replay
from conformance.capture.model import Limits
from conformance.models import Verdict
from conformance.reports.html import render_html
from conformance.reports.json import _DEL_AND_C1, report_to_dict, write_json
from tests.integrations.builders import capture_of, report_of, result


def _one_text(cap: Capture) -> str:
    report = report_of(cap, [result("http.status", Verdict.PASS, "events-0 \x7f \x85 ok")])
    text = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, default=str)
    return text.translate(_DEL_AND_C1) + "\n"


def _written(cap: Capture, tmp_path: Path) -> str:
    report = report_of(cap, [result("http.status", Verdict.PASS, "events-0 \x7f \x85 ok")])
    write_json(report, tmp_path / "deep" / "r.json")
    return (tmp_path / "deep" / "r.json").read_text(encoding="utf-8")


def test_the_streamed_report_is_the_one_text_report_byte_for_byte(tmp_path: Path) -> None:
    tricky = [
        (0.01, '"quoted" \\ back'),
        (0.02, "é ☃ \U0001f600"),
        (0.5, "del \x7f c1 \x85 \x9f tab\tesc \x1b"),
        (1, '{"json": [1, 2]}'),
        (2.123456, ""),
    ]
    for events in (tricky, tricky[:1], []):
        cap = capture_of(events)
        assert _written(cap, tmp_path) == _one_text(cap)
    written = _written(capture_of(tricky), tmp_path)
    assert "\x7f" not in written
    assert "\x85" not in written
    assert json.loads(written)["events"][2]["data"] == tricky[2][1]


def test_a_200k_event_report_is_written_without_holding_it_as_one_text(tmp_path: Path) -> None:
    count = 200_000
    cap = replay([(0.0, b"data: z\n\n" * count)], limits=Limits(max_events=10 * count))
    report = report_of(cap, [])
    tracemalloc.start()
    try:
        write_json(report, tmp_path / "r.json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = (tmp_path / "r.json").stat().st_size
    assert size > count * 80
    assert peak < size / 10, (peak, size)
    assert len(json.loads((tmp_path / "r.json").read_text())["events"]) == count


def test_the_html_report_of_200k_events_builds_no_list_of_their_times(tmp_path: Path) -> None:
    count = 200_000
    cap = replay(
        [(0.001 * i, b"data: z\n\n" * (count // 100)) for i in range(100)],
        limits=Limits(max_events=10 * count),
    )
    report = report_of(cap, [])
    render_html(report)  # imports, caches
    tracemalloc.start()
    try:
        page = render_html(report)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"{count} events" in page
    assert peak < count * 8, peak  # a list of their times alone: 8 bytes each, plus the floats
