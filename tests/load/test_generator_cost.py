"""bench.generator_cost's --many step beyond one process's descriptor limit: it splits over
generator processes sharing the generator's CPU and fan-out copies sharing the server's port
(SO_REUSEPORT), and reports them as one generator (the slow test runs it under a low limit)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.generator_cost import merged

ROOT = Path(__file__).resolve().parents[2]


def step(
    open_end: int, rate: float, cpu: float, p99: float, worst: float, errors: int
) -> dict[str, Any]:
    return {
        "open_end": open_end,
        "events_per_s": rate,
        "client_cpu_percent": cpu,
        "loop_lag": {"p99_ms": p99, "max_ms": worst},
        "errors": {"timeout:idle": errors},
    }


def test_processes_are_merged_as_one_generator_on_one_core() -> None:
    got = merged(
        [step(10_000, 9_990.0, 21.0, 12.0, 30.0, 0), step(9_998, 9_980.0, 23.5, 18.0, 25.0, 2)]
    )
    assert got["processes"] == 2
    assert got["open_end"] == 19_998
    assert got["events_per_s"] == pytest.approx(19_970.0)
    assert got["client_cpu_percent"] == pytest.approx(44.5)  # the % of the one core they share
    assert got["loop_lag_p99_ms"] == [12.0, 18.0]
    assert got["loop_lag_p99_ms_worst"] == 18.0  # the worst process, not an average
    assert got["loop_lag_max_ms_worst"] == 30.0
    assert got["errors"] == 2
    assert merged([])["open_end"] == 0


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
    assert many["errors"] == 0
    assert many["events_per_s"] > 1000
