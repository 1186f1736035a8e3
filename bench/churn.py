"""The reference under connection churn: lateness of the streams already open while new
connections arrive at ``--churn-rate`` per second, against steady state.

The reference (``--interval 1``) runs on CPU 0. One load generator holds ``--existing`` streams
(on CPU 1) through four windows of ``--window`` seconds: steady state; a second generator (a
separate process, also on CPU 1) ramping ``--churn`` streams at ``--churn-rate`` new
connections per second; those held; their first streams ending (each ram-monitor stream ends
after 22 messages) and reconnecting. Each window's p99 lateness of the existing streams is
reported apart, so the cost of the accept and close paths shows against steady state.

    python -m bench.churn [--existing 1000] [--churn 10000] [--churn-rate 1000] [--window 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.generator_cost import ROOT, server
from bench.pinning import LOADGEN_CPU, pin_to
from conformance.load.process import ensure_descriptors
from conformance.load.runner import LoadConfig, StepResult, run_load_sync

WINDOWS = ("steady", "churn ramp", "churn held", "churn streams end and reconnect")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.churn", description=__doc__)
    p.add_argument("--existing", type=int, default=1000)
    p.add_argument("--churn", type=int, default=10_000)
    p.add_argument("--churn-rate", type=float, default=1000.0)
    p.add_argument("--window", type=float, default=10.0)
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = p.parse_args(argv)
    ensure_descriptors(args.existing)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {LOADGEN_CPU})
    reference = ["-m", "reference", "--interval", "1", "--max-streams", "30000",
                 "--access-log", "false", "--log-level", "warning"]  # fmt: skip
    load_before = os.getloadavg()[0]
    steps: list[StepResult] = []
    churner: list[subprocess.Popen[bytes]] = []
    with server(reference) as port:
        url = f"http://127.0.0.1:{port}/api/stream"
        churn_cmd = [sys.executable, "-m", "conformance", "load", url, "--profile", "ram-monitor",
                     "--streams", str(args.churn), "--ramp", str(args.churn_rate),
                     "--duration", str(args.window * 3), "--max-streams-cap", str(args.churn)]  # fmt: skip

        def step_done(step: StepResult) -> None:
            steps.append(step)
            print(f"  {WINDOWS[len(steps) - 1]}: p99 {step.lateness.p99 * 1000:.0f} ms", flush=True)
            if len(steps) == 1:
                churner.append(
                    subprocess.Popen(
                        churn_cmd,
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        preexec_fn=pin_to(LOADGEN_CPU),
                    )
                )

        config = LoadConfig(
            url=url,
            steps=[args.existing] * len(WINDOWS),
            hold=args.window,
            interval=1.0,
            keep_going=True,
            ramp=1000.0,
        )
        try:
            run_load_sync(config, on_step=step_done)
        finally:
            for proc in churner:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    lines = [
        f"churn: lateness of {args.existing} existing streams of the reference (1 s interval) "
        f"while {args.churn} more arrive at {args.churn_rate:g}/s (load average "
        f"{load_before:.1f} before)",
        f"{'window':<34}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'events':>8}{'errors':>8}",
    ]
    for name, step in zip(WINDOWS, steps, strict=False):
        late = step.lateness
        lines.append(
            f"{name:<34}{late.p50 * 1000:>8.0f}{late.p99 * 1000:>8.0f}{late.max * 1000:>8.0f}"
            f"{step.events:>8}{step.error_total:>8}"
        )
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "churn.txt").write_text(text + "\n", encoding="utf-8")
    payload = {name: s.as_dict() for name, s in zip(WINDOWS, steps, strict=False)}
    (args.out / "churn.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
