"""Suite speed: a default run against the reference must take about as long as one stream.

Why: the suite captures the main stream once and runs its extra clients (stream.concurrent,
stream.disconnect) alongside it, so a user waits for one stream, not for several. Issue 3 §7 bounds
a default run against the reference at its default 1 s interval (a ~20 s stream) by
``1.15 x stream duration + 3 s``. This starts the real reference as a process, runs the suite's
CLI as a user would (a separate process, so interpreter start-up and imports count), reads the
stream duration from the JSON report (arrival of the last event) and prints the ratio.

    python -m bench.suite_speed [--interval 1.0] [--runs 1] [--in-process]

Exit status: 0 when every run met the bound and passed the suite, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from testing.support import server_process

BOUND_FACTOR = 1.15
BOUND_SLACK_S = 3.0


@dataclass(frozen=True)
class Run:
    wall_s: float  # what the user waits for: from starting the suite to its exit
    suite_s: float  # the suite's own duration_s (no interpreter start-up)
    stream_s: float  # arrival of the last event of the main capture, from the request
    exit_code: int

    @property
    def bound_s(self) -> float:
        return BOUND_FACTOR * self.stream_s + BOUND_SLACK_S

    @property
    def ratio(self) -> float:
        return self.wall_s / self.stream_s if self.stream_s else float("inf")

    @property
    def met(self) -> bool:
        return self.wall_s <= self.bound_s


def run_cli(url: str, interval: float) -> Run:
    """The console entry point in its own process, ram-monitor profile, only --interval set."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "conformance",
            url,
            "--profile",
            "ram-monitor",
            "--interval",
            str(interval),
            "--json-report",
            str(report_path),
            "--no-color",
        ]
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        wall = time.monotonic() - started
        if not report_path.exists():
            raise RuntimeError(f"the suite wrote no report (exit {proc.returncode}): {proc.stderr}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
    if proc.returncode != 0:
        print(proc.stdout, file=sys.stderr)
    events = report.get("events") or []
    stream = float(events[-1]["t"]) if events else 0.0
    return Run(wall, float(report["duration_s"]), stream, proc.returncode)


def run_in_process(url: str, interval: float) -> Run:
    """run_suite_sync in this interpreter (imports already paid): the suite's own overhead."""
    from conformance.profiles import load_profile
    from conformance.runner import run_suite_sync

    profile = load_profile("ram-monitor").replace(interval=interval)
    started = time.monotonic()
    report = run_suite_sync(url, profile)
    wall = time.monotonic() - started
    events = report.capture.events
    stream = events[-1].t if events else 0.0
    return Run(wall, report.duration_s, stream, report.exit_code())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.suite_speed", description=__doc__)
    parser.add_argument("--interval", type=float, default=1.0, help="reference interval (s)")
    parser.add_argument("--runs", type=int, default=1, help="how many suite runs")
    parser.add_argument(
        "--in-process", action="store_true", help="call run_suite_sync instead of the CLI"
    )
    args = parser.parse_args(argv)
    if not 0 < args.interval <= 10 or not 1 <= args.runs <= 20:
        parser.error("--interval must be in (0, 10] and --runs in [1, 20]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    how = "run_suite_sync in-process" if args.in_process else "sse-conformance CLI process"
    print(
        f"suite speed: default ram-monitor run ({how}) against the reference at {args.interval:g} s"
    )
    ok = True
    with server_process(
        ["-m", "reference", "--interval", str(args.interval), "--log-level", "warning"]
    ) as ref:
        url = f"{ref.base_url}/api/stream"
        for index in range(1, args.runs + 1):
            try:
                run = (run_in_process if args.in_process else run_cli)(url, args.interval)
            except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as exc:
                print(f"run {index}: failed: {exc}")
                return 1
            verdict = "met" if run.met else "MISSED"
            print(
                f"run {index}: stream {run.stream_s:.2f} s, suite {run.suite_s:.2f} s, "
                f"wall {run.wall_s:.2f} s, wall/stream {run.ratio:.3f}; "
                f"bound {BOUND_FACTOR} x {run.stream_s:.2f} + {BOUND_SLACK_S:g} = "
                f"{run.bound_s:.2f} s: {verdict}; suite exit {run.exit_code}"
            )
            ok = ok and run.met and run.exit_code == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
