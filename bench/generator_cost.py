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
from typing import Any

from bench.pinning import LOADGEN_CPU, SERVER_CPU, pin_to
from conformance.load.process import ensure_descriptors, raise_hard_fd_limit
from conformance.load.runner import LoadConfig, StepResult, run_load_sync
from testing.support import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "conformance" / "locust_user.py"


@contextlib.contextmanager
def server(argv: Sequence[str], copies: int = 1) -> Iterator[int]:
    """``python ARGV --host 127.0.0.1 --port P`` pinned to CPU 0; yields P; always stops it.
    ``copies`` > 1: that many processes share P (``--reuse-port``), each under its own
    descriptor limit."""
    port = free_port()
    extra = ["--reuse-port"] if copies > 1 else []
    procs = [
        subprocess.Popen(
            [sys.executable, *argv, *extra, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pin_to(SERVER_CPU),
        )
        for _ in range(copies)
    ]
    try:
        wait_for_port(port)
        time.sleep(0.3 if copies > 1 else 0.0)  # every copy listening before the ramp
        yield port
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# Several generator processes ramp into one server CPU together: at 5,000 new connections per
# second the listen backlogs overflow, SYNs are retried 1 s later and the retried connections
# complete in bursts during the hold (measured: lag p99 0.4-1.3 s, open min 18,598 of 20,000);
# at 2,000 per second in all, every stream is open before the hold (lag p99 12 ms).
SPLIT_RAMP = 2000.0


def many_in_processes(url: str, streams: int, parts: int, hold: float) -> dict[str, Any]:
    """``streams`` 1 Hz streams over ``parts`` processes with ``sse-conformance load
    --processes`` (the load mode's own split and merge), every process pinned to the
    generator's CPU: the merged step as the load mode's JSON gives it (empty when it failed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "many.json"
        cmd = [sys.executable, "-m", "conformance", "load", url, "--streams", str(streams),
               "--interval", "1", "--duration", f"{hold:g}", "--ramp", f"{SPLIT_RAMP:g}",
               "--timeout", "10", "--processes", str(parts), "--pin-cpu", str(LOADGEN_CPU),
               "--max-streams-cap", str(streams), "--keep-going", "--json", str(out)]  # fmt: skip
        subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=hold + 600, check=False)
        try:
            step: dict[str, Any] = json.loads(out.read_text())["steps"][0]
        except (OSError, ValueError, KeyError, IndexError):
            return {}
    return step


def many_figures(step: dict[str, Any]) -> dict[str, Any]:
    """What the --many line reports from a step's JSON (one process's or several merged)."""
    lag = step.get("loop_lag", {})
    per_process = step.get("loop_lag_p99_ms_per_process") or [lag.get("p99_ms") or 0.0]
    return {
        "processes": len(per_process),
        "open_end": step.get("open_end", 0),
        "open_min": step.get("open_min", 0),
        "events_per_s": step.get("events_per_s", 0.0),
        "client_cpu_percent": step.get("client_cpu_percent", 0.0),
        "loop_lag_p99_ms": per_process,
        "loop_lag_p99_ms_worst": max(per_process, default=0.0),
        "loop_lag_max_ms": lag.get("max_ms") or 0.0,
        "errors": sum(step.get("errors", {}).values()),
    }


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
    # One process holds at most its descriptor hard limit: beyond it the --many step splits over
    # processes that share the generator's CPU (and the fan-out over copies sharing the server's).
    per_process = args.many
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and args.many > hard - 500:
            per_process = hard - 500
    parts = -(-args.many // per_process)
    ensure_descriptors(max(args.streams, per_process))
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {LOADGEN_CPU})
    load_before = os.getloadavg()[0]
    fanout = ["-m", "bench.apps.raw_fanout", "--interval", str(args.interval)]
    with server(fanout) as port:
        url = f"http://127.0.0.1:{port}/"
        fast = ours(url, args.streams, args.interval, args.hold)
        theirs = None if args.no_locust else locust_events_per_core(url, args.streams, args.hold)
    phased = ["-m", "bench.apps.raw_fanout", "--interval", "1", "--slices", "50"]
    with server(phased, copies=parts) as port:
        phased_url = f"http://127.0.0.1:{port}/"
        if parts == 1:
            many = many_figures(ours(phased_url, args.many, 1.0, args.hold).as_dict())
        else:
            many = many_figures(many_in_processes(phased_url, args.many, parts, args.hold))
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
    split = (
        ""
        if parts == 1
        else f" in {parts} generator processes sharing CPU 1 (--processes {parts}, ramp "
        f"{SPLIT_RAMP:,.0f}/s; {parts} fan-out copies sharing CPU 0: the descriptor hard limit is "
        f"{per_process + 500} per process), lag p99 per process "
        f"{' / '.join(f'{lag:.0f}' for lag in many['loop_lag_p99_ms'])} ms"
    )
    lines.append(
        f"  {args.many} streams at 1 Hz{split}: {many['open_min']}-{many['open_end']} open, "
        f"{many['events_per_s']:,.0f} events/s, generator {many['client_cpu_percent']:.0f}% of a "
        f"core, its own lag p99 {many['loop_lag_p99_ms_worst']:.0f} ms (max "
        f"{many['loop_lag_max_ms']:.0f} ms), errors {many['errors']}"
    )
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generator_cost.txt").write_text(text + "\n", encoding="utf-8")
    payload = {"fast": fast.as_dict(), "locust": theirs, "many": many}
    (args.out / "generator_cost.json").write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
