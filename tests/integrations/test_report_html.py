"""The HTML report: self-contained, escaped, and showing what a person needs to see."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from conformance.capture import EndReason
from conformance.models import Evidence, Verdict
from conformance.profiles import Profile
from conformance.reports.html import render_html, timeline_svg, write_html_report
from tests.integrations.builders import capture_of, report_of, result

SVG_NS = "{http://www.w3.org/2000/svg}"


class _Collector(HTMLParser):
    """Every tag and attribute, to prove nothing outside the file is referenced."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def steady(n: int = 22, interval: float = 0.05) -> list[tuple[float, str]]:
    return [(0.01 + i * interval, f'"message {i}"') for i in range(n)]


def extract_svg(page: str) -> ET.Element:
    match = re.search(r"<svg .*?</svg>", page, re.S)
    assert match, "no svg in the page"
    return ET.fromstring(match.group(0))  # well-formed XML, or this raises


def test_page_is_self_contained() -> None:
    page = render_html(report_of(capture_of(steady()), [result("http.status", Verdict.PASS)]))
    collector = _Collector()
    collector.feed(page)
    tags = {tag for tag, _ in collector.tags}
    assert "script" not in tags
    assert "link" not in tags
    assert "img" not in tags
    for tag, attrs in collector.tags:
        if tag == "a":
            continue  # spec links are for the reader to follow, nothing loads them
        for name, value in attrs.items():
            if name in ("src", "href") and value:
                raise AssertionError(f"external reference {tag} {name}={value}")
    assert "@import" not in page
    assert "url(" not in page


def test_verdict_table_and_failure_evidence() -> None:
    cap = capture_of(steady())
    results = [
        result("http.status", Verdict.PASS, "200 OK"),
        result(
            "framing.terminated",
            Verdict.FAIL,
            "the last event is not followed by a blank line: browsers drop it",
            Evidence(1234, 'data: \\"done\\"\\n'),
        ),
        result(
            "stream.incremental",
            Verdict.FAIL,
            "all 22 events arrived within 0.004 s at the end",
            Evidence(None, "22 events in 1 read", t=1.25),
        ),
        result("http.cache-control", Verdict.WARN, "no Cache-Control header"),
        result("payload.ram-format", Verdict.SKIP, "not the ram-monitor profile"),
    ]
    page = render_html(report_of(cap, results))
    assert "FAIL: 2 check(s) did not pass" in page
    assert "2 fail, 1 warn, 1 pass, 1 skip" in page
    # failures first, then warnings, then passes and skips
    order = [page.index(f'<tr class="{v}">') for v in ("fail", "warn", "pass", "skip")]
    assert order == sorted(order)
    assert 'id="check-framing-terminated"' in page
    assert "@1234" in page
    assert "data: \\&quot;done\\&quot;\\n" in page
    assert "t=1.250s" in page
    assert "exit code 1" in page


def test_strict_counts_warnings_as_failures() -> None:
    report = report_of(
        capture_of(steady()),
        [result("http.status", Verdict.PASS), result("http.cache-control", Verdict.WARN)],
    )
    assert "PASS: no check failed" in render_html(report)
    strict = render_html(report, strict=True)
    assert "FAIL: 1 check(s) did not pass" in strict
    assert "exit code 1" in strict


def test_server_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    cap = capture_of([(0.01, hostile), (0.02, "ok")])
    cap.headers.append(("x-evil", "<b>bold</b>"))
    page = render_html(
        report_of(cap, [result("payload.json", Verdict.FAIL, hostile, Evidence(0, hostile))]),
        launch_output="<script>launch()</script>",
    )
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page


def test_timeline_has_one_dot_per_event_at_its_time() -> None:
    cap = capture_of(steady(5, 1.0))
    svg = extract_svg(timeline_svg(cap, interval=1.0))
    circles = svg.findall(f".//{SVG_NS}circle")
    assert len(circles) == 5
    xs = [float(c.attrib["cx"]) for c in circles]
    ys = [float(c.attrib["cy"]) for c in circles]
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)  # index grows upwards
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    assert max(gaps) - min(gaps) < 0.5  # evenly spaced in time -> evenly spaced in x
    titles = [c.findtext(f"{SVG_NS}title") or "" for c in circles]
    assert titles[2].startswith("#2 t=2.010s message")
    # the expected-cadence line is drawn when an interval is known
    assert any(line.attrib.get("stroke-dasharray") == "6 4" for line in svg.iter(f"{SVG_NS}line"))


def test_timeline_shows_a_buffered_stream_as_a_cliff() -> None:
    """Everything in the last 5 ms of a 2 s capture: all dots share (almost) one x."""
    burst = [(2.0 + i * 0.0002, f"e{i}") for i in range(22)]
    cap = capture_of(burst, t_end=2.01)
    svg = extract_svg(timeline_svg(cap))
    xs = [float(c.attrib["cx"]) for c in svg.iter(f"{SVG_NS}circle")]
    width = float(svg.attrib["viewBox"].split()[2])
    assert max(xs) - min(xs) < width * 0.01
    assert min(xs) > width * 0.8  # and they sit at the right, the end of the capture


def test_timeline_without_events_says_so() -> None:
    cap = capture_of([], t_end=1.0)
    svg = extract_svg(timeline_svg(cap))
    assert not list(svg.iter(f"{SVG_NS}circle"))
    assert "no event was dispatched" in ET.tostring(svg, encoding="unicode")


def test_huge_streams_stay_small() -> None:
    cap = capture_of([(i * 0.001, str(i)) for i in range(20_000)])
    page = render_html(report_of(cap, [result("payload.count", Verdict.PASS)]))
    svg = extract_svg(page)
    assert len(list(svg.iter(f"{SVG_NS}circle"))) <= 1501
    assert "19700 more events not shown" in page
    assert len(page) < 2_000_000


def test_other_clients_and_launch_output(tmp_path: Path) -> None:
    main = capture_of(steady())
    others = [capture_of(steady()), capture_of(steady(10))]
    report = report_of(
        main,
        [result("stream.concurrent", Verdict.PASS)],
        profile=Profile(name="ram-monitor", interval=0.05),
        extra={"concurrent": others},
    )
    out = tmp_path / "report.html"
    write_html_report(report, out, launch_output="INFO: Uvicorn running on http://127.0.0.1:1\n")
    page = out.read_text(encoding="utf-8")
    svg = extract_svg(page)
    assert len(svg.findall(f"{SVG_NS}polyline")) == 3  # main step line + 2 other clients
    assert "concurrent client 2: 10 events" in page
    assert "Uvicorn running on" in page
    assert "ram-monitor" in page


def test_request_credentials_are_redacted(tmp_path: Path) -> None:
    profile = Profile(
        name="openai-chat",
        headers=(
            ("Authorization", "Bearer sk-secret-123"),
            ("X-Api-Key", "k-456"),
            ("Accept-Language", "en"),
        ),
    )
    report = report_of(capture_of(steady()), [result("http.status", Verdict.PASS)], profile=profile)
    out = tmp_path / "nested" / "dir" / "report.html"
    write_html_report(report, out)  # parent directories are created
    page = out.read_text(encoding="utf-8")
    assert "sk-secret-123" not in page
    assert "k-456" not in page
    assert "redacted, 20 chars" in page
    assert "Accept-Language" in page


def test_other_clients_are_placed_on_the_main_clock() -> None:
    main = capture_of(steady(5, 1.0))
    late = capture_of(steady(5, 1.0))
    main.started_at, late.started_at = 100.0, 103.0  # the follow-up client started 3 s later
    svg = extract_svg(timeline_svg(main, extra={"disconnect": [late]}))
    first_main = float(svg.findall(f".//{SVG_NS}circle")[0].attrib["cx"])
    other = svg.findall(f"{SVG_NS}polyline")[0].attrib["points"].split()
    first_other = float(other[0].split(",")[0])
    width = float(svg.attrib["viewBox"].split()[2])
    assert first_other - first_main > width * 0.25  # 3 s of a ~7 s axis


def test_the_cadence_line_is_over_the_other_clients_and_labels_are_off_the_lines() -> None:
    main = capture_of(steady(5, 1.0))
    others = [capture_of(steady(5, 1.0)) for _ in range(3)]
    svg = extract_svg(timeline_svg(main, interval=1.0, extra={"concurrent": others}))
    children = list(svg)
    cadence = next(i for i, el in enumerate(children) if el.attrib.get("data-role") == "cadence")
    polylines = [i for i, el in enumerate(children) if el.tag == f"{SVG_NS}polyline"]
    main_line = polylines[-1]  # the main stream's step line, drawn last of the lines
    assert all(i < cadence for i in polylines[:-1]), "cadence drawn under the other clients"
    assert children[cadence].attrib["stroke"] != children[main_line].attrib["stroke"]
    plot = next(el for el in children if el.tag == f"{SVG_NS}rect")
    top = float(plot.attrib["y"])
    labels = [el for el in children if el.attrib.get("data-role") == "marker-label"]
    assert [el.text for el in labels] == ["headers", "end: closed"]
    ys = [float(el.attrib["y"]) for el in labels]
    assert all(0 < y_ < top for y_ in ys), (ys, top)  # above the plot: over no line or dot
    assert len(set(ys)) == 2  # one row each: they never overlap each other


def test_a_reconnect_label_at_the_right_edge_stays_inside_the_frame() -> None:
    main = capture_of(steady(5, 1.0))
    cut = capture_of(steady(2, 0.1), end_reason=EndReason.ABORTED)
    resumed = capture_of(steady(3, 0.1))
    after = capture_of([], t_end=0.01)
    main.started_at, cut.started_at, resumed.started_at, after.started_at = 100, 100, 101, 106
    svg = extract_svg(timeline_svg(main, extra={"reconnect": [cut, resumed, after]}))
    labels = {el.text: el for el in svg if el.attrib.get("data-role") == "reconnect-label"}
    assert set(labels) == {"cut", "reconnect", "after the end"}
    plot = next(el for el in svg if el.tag == f"{SVG_NS}rect")
    right = float(plot.attrib["x"]) + float(plot.attrib["width"])
    edge = labels["after the end"]
    assert edge.attrib["text-anchor"] == "end"
    assert float(edge.attrib["x"]) <= right
    assert labels["cut"].attrib["text-anchor"] == "start"
