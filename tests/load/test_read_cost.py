"""bench.read_cost: its BufferedProtocol read path counts what the load client counts, and the
bench measures every variant against a real fan-out server (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.read_cost import BufferedStream, figures, table
from conformance.parser import parse_all
from tests.conformance.vectors import ALL, Vector
from tests.load.test_read_path import HEAD, Listener, ways

ROOT = Path(__file__).resolve().parents[2]


def feed_buffered(reads: list[bytes]) -> BufferedStream:
    """Each read as uvloop hands it over: copied into get_buffer()'s buffer, then
    buffer_updated(n) (reads longer than the buffer in several turns)."""
    listener = Listener()
    stream = BufferedStream(b"", listener, started=time.monotonic(), min_events=0)
    for data in [HEAD, *reads]:
        while data:
            view = stream.get_buffer(len(data))
            n = min(len(view), len(data))
            view[:n] = data[:n]
            stream.buffer_updated(n)
            data = data[n:]
    assert listener.counted == stream.events
    return stream


@pytest.mark.parametrize("vector", ALL, ids=[v.name for v in ALL])
def test_the_buffered_variant_counts_the_parsers_events(vector: Vector) -> None:
    events, _ = parse_all(vector.stream)
    last_id = events[-1].last_event_id if events else ""
    for name, reads in ways(vector.stream):
        stream = feed_buffered(reads)
        assert (stream.events, stream.last_id, stream.error) == (len(events), last_id, None), name


def test_a_short_read_is_not_read_with_the_last_ones_bytes() -> None:
    """The buffer is shared and never cleared: only the read's own ``nbytes`` count."""
    long = b"%x\r\n%s\r\n" % (30, b"data: " + b"x" * 22 + b"\n\n")
    stream = feed_buffered([long, b"9\r", b"\ndata: y\n\n\r\n"])
    assert (stream.events, stream.error) == (2, None)


def test_figures_are_per_read_and_per_cpu_second() -> None:
    run = {"user_s": 1.0, "sys_s": 1.0, "wall_s": 4.0, "reads": 100_000, "events": 200_000,
           "out_segs": 200_000, "in_segs": 200_000}  # fmt: skip
    got = figures(run)
    assert got["events_per_cpu_s"] == 100_000
    assert got["user_us_per_read"] == pytest.approx(10.0)
    assert got["events_per_read"] == 2.0
    assert got["out_segs_per_read"] == 2.0
    assert got["cpu_percent"] == 50.0
    lines = table({"protocol": [got], "epoll": []})
    assert "100,000" in lines[1]
    assert "(no run finished)" in lines[2]


@pytest.mark.slow
def test_the_bench_measures_every_variant(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.read_cost", "--streams", "20", "--hold", "0.5",
         "--repeat", "1", "--batches", "1,2", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    raw = json.loads((tmp_path / "read_cost.json").read_text())
    names = ["protocol", "buffered", "epoll-parse", "epoll"]
    assert sorted(raw) == sorted([*names, *(f"{n} x2" for n in names)])
    for name, runs in raw.items():
        assert len(runs) == 1, name
        assert runs[0]["events"] > 0, name
        per_read = runs[0]["events"] / runs[0]["reads"]
        assert per_read == pytest.approx(2.0 if name.endswith("x2") else 1.0, rel=0.1), name
    assert "events/CPU-s" in done.stdout
