"""What one core of the load generator gives: events parsed per CPU-second, beside Locust's.

Against a fast fan-out server on loopback (``bench/apps/raw_fanout.py``, pinned to CPU 0; the
generators on CPU 1): ``sse-conformance load``'s generator holds ``--streams`` streams at a
short interval (one event per write) and reports events per second of its own CPU time; then a
Locust worker process (``conformance/locust_user.py``, gevent) holds the same streams on the
same server for the same time, and its events (TTFT + ITL entries) are divided by its CPU time
(``os.wait4``). Then the generator holds ``--many`` streams at one event per second (the fan-out spreading its
streams over 50 phases of the second, as the reference does) and reports its own loop lag (p99 of how late a 20 ms timer wakes up): the delay every timestamp it takes
carries. Events per core tell when to go distributed: streams x rate / that figure = cores.

    python -m bench.generator_cost [--streams 2000] [--interval 0.05] [--many 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.pinning import LOADGEN_CPU, SERVER_CPU, pin_to
from conformance.load.cli import ensure_descriptors
from conformance.load.process import raise_hard_fd_limit
from conformance.load.runner import LoadConfig, StepResult, run_load_sync
from testing.support import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "conformance" / "locust_user.py"


@contextlib.contextmanager
def server(argv: Sequence[str]) -> Iterator[int]:
    """``python ARGV --host 127.0.0.1 --port P`` pinned to CPU 0; yields P; always stops it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, *argv, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin_to(SERVER_CPU),
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def ours(url: str, streams: int, interval: float | None, hold: float) -> StepResult:
    config = LoadConfig(
        url=url, steps=[streams], hold=hold, interval=interval, ramp=5000.0, timeout=10.0
    )
    return run_load_sync(config).steps[0]


def locust_events_per_core(url: str, streams: int, seconds: float) -> dict[str, float]:
    """One Locust process (no master) holding ``streams`` users for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "run")
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "-u", str(streams), "-r", str(max(streams / 2, 1)), "-t", f"{seconds:g}s",
               "--host", url, "--sse-path", "/", "--csv", prefix, "--only-summary",
               "--loglevel", "ERROR", "--stop-timeout", "1"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=pin_to(LOADGEN_CPU),
        )  # fmt: skip
        start = time.monotonic()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        events = 0
        with contextlib.suppress(OSError), open(prefix + "_stats.csv") as fh:
            for row in csv.DictReader(fh):
                if row["Type"] == "SSE" and row["Name"] in ("TTFT", "ITL"):
                    events += int(row["Request Count"])
    return {
        "events": events,
        "cpu_s": cpu,
        "wall_s": wall,
        "events_per_s": events / wall if wall else 0.0,
        "events_per_core_s": events / cpu if cpu else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.generator_cost", description=__doc__)
    p.add_argument("--streams", type=int, default=2000)
    p.add_argument("--interval", type=float, default=0.05, help="seconds between events")
    p.add_argument("--hold", type=float, default=10.0)
    p.add_argument("--many", type=int, default=20_000, help="1 Hz streams for the lag step")
    p.add_argument("--no-locust", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = p.parse_args(argv)
    hard_before, hard_after = raise_hard_fd_limit(max(args.streams, args.many) + 1024)
    if hard_after > hard_before:
        fd_note = f"descriptor hard limit raised from {hard_before} to {hard_after} (allowed)"
    elif hard_after < max(args.streams, args.many) + 200:
        fd_note = f"descriptor hard limit {hard_after}: raising it was not allowed"
    else:
        fd_note = f"descriptor hard limit {hard_after}"
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and args.many > hard - 200:
            print(f"--many {args.many}: the descriptor hard limit is {hard}; using {hard - 200}")
            args.many = hard - 200
    ensure_descriptors(max(args.streams, args.many))
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {LOADGEN_CPU})
    load_before = os.getloadavg()[0]
    fanout = ["-m", "bench.apps.raw_fanout", "--interval", str(args.interval)]
    with server(fanout) as port:
        url = f"http://127.0.0.1:{port}/"
        fast = ours(url, args.streams, args.interval, args.hold)
        theirs = None if args.no_locust else locust_events_per_core(url, args.streams, args.hold)
    phased = ["-m", "bench.apps.raw_fanout", "--interval", "1", "--slices", "50"]
    with server(phased) as port:
        many = ours(f"http://127.0.0.1:{port}/", args.many, 1.0, args.hold)
    rate = args.streams / args.interval
    lines = [
        f"generator cost ({args.streams} streams x {1 / args.interval:g} events/s = {rate:,.0f} "
        f"events/s offered by a raw fan-out server on CPU 0; generators on CPU 1; "
        f"load average {load_before:.1f} before; {fd_note})",
        f"  sse-conformance load: {fast.events_per_s:,.0f} events/s received on "
        f"{fast.client_cpu_percent:.0f}% of a core = {fast.events_per_core:,.0f} events/s per "
        f"core (errors {fast.error_total}, lag p99 {fast.loop_lag.p99 * 1000:.0f} ms)",
    ]
    if theirs is not None:
        ratio = fast.events_per_core / theirs["events_per_core_s"] if theirs["events"] else 0
        lines.append(
            f"  Locust worker (SSEUser): {theirs['events_per_s']:,.0f} events/s on "
            f"{theirs['cpu_s'] / theirs['wall_s'] * 100:.0f}% of a core = "
            f"{theirs['events_per_core_s']:,.0f} events/s per core "
            f"(sse-conformance load: {ratio:.1f}x)"
        )
    lines.append(
        f"  {args.many} streams at 1 Hz: {many.open_end} open, {many.events_per_s:,.0f} events/s, "
        f"generator {many.client_cpu_percent:.0f}% of a core, its own lag p99 "
        f"{many.loop_lag.p99 * 1000:.0f} ms (max {many.loop_lag.max * 1000:.0f} ms), "
        f"errors {many.error_total}"
    )
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generator_cost.txt").write_text(text + "\n", encoding="utf-8")
    payload = {"fast": fast.as_dict(), "locust": theirs, "many": many.as_dict()}
    (args.out / "generator_cost.json").write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
