"""bench.generator_cost's --many step beyond one process's descriptor limit: it splits over
generator processes sharing the generator's CPU and fan-out copies sharing the server's port
(SO_REUSEPORT), and reports them as one generator (the slow test runs it under a low limit)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generator_cost import many_figures

ROOT = Path(__file__).resolve().parents[2]


def test_the_many_line_reads_one_process_or_several_merged() -> None:
    one = {"open_end": 19_000, "open_min": 19_000, "events_per_s": 19_000.0,
           "client_cpu_percent": 31.0, "loop_lag": {"p99_ms": 6.0, "max_ms": 9.0},
           "errors": {}}  # fmt: skip
    got = many_figures(one)
    assert got["processes"] == 1
    assert got["loop_lag_p99_ms"] == [6.0]
    merged = {**one, "loop_lag_p99_ms_per_process": [12.0, 18.0], "errors": {"timeout:idle": 2}}
    got = many_figures(merged)
    assert got["processes"] == 2
    assert got["loop_lag_p99_ms_worst"] == 18.0  # the worst process, not an average
    assert got["errors"] == 2
    assert many_figures({})["open_end"] == 0  # a failed run: zeros, no KeyError


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is missing")
def test_a_many_step_beyond_the_descriptor_limit_holds_every_stream(tmp_path: Path) -> None:
    """1,500 streams under a 1,200-descriptor limit: three processes, every stream open."""
    cmd = ["prlimit", "--nofile=1200:1200", sys.executable, "-m", "bench.generator_cost",
           "--streams", "50", "--many", "1500", "--hold", "2", "--no-locust", "--out", str(tmp_path)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "in 3 generator processes sharing CPU 1" in done.stdout, done.stdout
    many = json.loads((tmp_path / "generator_cost.json").read_text())["many"]
    assert many["processes"] == 3
    assert many["open_end"] == 1500
    assert many["open_min"] == 1500  # every stream open through the hold
    assert many["errors"] == 0
    assert many["events_per_s"] > 1000
