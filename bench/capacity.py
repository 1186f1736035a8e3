"""Capacity bench: how many streams each implementation holds with events still on time.

For the reference and three implementations users would pick instead (the demo's per-client
generator, sse-starlette, fastapi.sse) it: checks with the conformance suite that each one is a
correct ram-monitor stream (a short-interval run), then steps the load up at the real 1 s interval
(500, 1,000, 2,000, 5,000, 10,000 streams; a series stops at its first miss) with the server
pinned to CPU 0 and this process (the load generator) pinned to CPU 1, and reports the largest N
meeting the delivery criterion (every event delivered, p99 lateness <= 250 ms), CPU per 1,000
streams, RSS per stream, ratios against the baseline and a PNG plot. A raw asyncio fan-out
server (one pre-encoded write per stream, every stream on the same tick) run through every step
shows what a single burst per tick costs, the load generator's reading of it included.

    python -m bench.capacity [--steps 500,1000,...] [--hold 8] [--repeat 1] [--out out/bench]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.pinning import LOADGEN_CPU, SERVER_CPU, pin_to
from conformance.load.process import ensure_descriptors
from conformance.load.runner import LoadConfig, LoadReport, StepResult, run_load
from testing.support import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
STREAM_PATH = "/api/stream"
QUIET_REFERENCE = ("--access-log", "false", "--log-level", "warning")


@dataclass(frozen=True)
class Implementation:
    key: str
    title: str
    argv: tuple[str, ...]  # after ``python``; --host/--port/--interval are appended
    conformance: bool = True  # the raw fan-out is no ram-monitor stream


IMPLEMENTATIONS = (
    Implementation(
        "reference",
        "reference (shared sampler, phased)",
        ("-m", "reference", "--max-streams", "20000", *QUIET_REFERENCE),
    ),
    Implementation(
        "baseline", "baseline (demo: generator per client)", ("-m", "bench.apps.baseline")
    ),
    Implementation(
        "sse-starlette",
        "sse-starlette EventSourceResponse",
        ("-m", "bench.apps.with_sse_starlette"),
    ),
    Implementation(
        "fastapi.sse", "fastapi.sse EventSourceResponse", ("-m", "bench.apps.with_fastapi_sse")
    ),
)
GENERATOR_CHECK = Implementation(
    "raw-fanout", "raw asyncio fan-out (single burst)", ("-m", "bench.apps.raw_fanout"), False
)


@contextlib.contextmanager
def running(impl: Implementation, interval: float, *, pin: bool) -> Iterator[tuple[str, int]]:
    """Start one server on a free port; yield (stream URL, pid); always stop it."""
    port = free_port()
    cmd = [sys.executable, *impl.argv, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--interval", str(interval)]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin_to(SERVER_CPU) if pin else None,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}{STREAM_PATH}", proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def conformance_verdict(impl: Implementation, out_dir: Path) -> dict[str, Any]:
    """Run the suite (ram-monitor profile) against a 50 ms-interval instance of ``impl``."""
    report_file = out_dir / f"conformance-{impl.key}.json"
    with running(impl, 0.05, pin=False) as (url, _pid):
        cmd = [sys.executable, "-m", "conformance", url, "--profile", "ram-monitor"]
        cmd += ["--interval", "0.05"]
        cmd += ["--json-report", str(report_file)]
        try:
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return {"exit_code": None, "summary": "suite timed out"}
    verdicts: dict[str, int] = {}
    not_passed: list[str] = []
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        data = json.loads(report_file.read_text())
        for check in data["checks"]:
            verdicts[check["verdict"]] = verdicts.get(check["verdict"], 0) + 1
            if check["verdict"] not in ("pass", "skip"):
                not_passed.append(f"{check['id']}={check['verdict']}")
    summary = (
        ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) or done.stderr.strip()[-200:]
    )
    return {
        "exit_code": done.returncode,
        "verdicts": verdicts,
        "not_passed": not_passed,
        "summary": summary,
    }


@dataclass
class Series:
    impl: Implementation
    runs: list[LoadReport] = field(default_factory=list)

    def largest(self) -> list[int]:
        return [run.largest_meeting for run in self.runs]

    def sizing_step(self, run: LoadReport) -> StepResult | None:
        """The step CPU and memory are quoted at: the largest that met the criterion, else the
        first whose ramp reached its target."""
        meeting = [s for s in run.steps if s.meets]
        if meeting:
            return meeting[-1]
        ramped = [s for s in run.steps if s.ramped]
        return ramped[0] if ramped else None

    def cpu_per_1k(self) -> float | None:
        values = []
        for run in self.runs:
            step = self.sizing_step(run)
            if step is not None and step.server_cpu_percent is not None:
                values.append(step.server_cpu_percent / (step.target / 1000.0))
        return statistics.median(values) if values else None

    def rss_per_stream(self) -> float | None:
        values = []
        for run in self.runs:
            step = self.sizing_step(run)
            if step is None or step.server_rss_bytes is None or run.idle_server_rss_bytes is None:
                continue
            values.append((step.server_rss_bytes - run.idle_server_rss_bytes) / step.target)
        return statistics.median(values) if values else None


async def measure(
    url: str, pid: int, steps: list[int], hold: float, ramp: float, *, keep_going: bool = False
) -> LoadReport:
    config = LoadConfig(
        url=url,
        steps=steps,
        ramp=ramp,
        hold=hold,
        interval=1.0,
        timeout=10.0,
        server_pid=pid,
        keep_going=keep_going,
    )
    return await run_load(config, on_step=lambda s: print(f"    {_step_line(s)}", flush=True))


def _ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:.0f}"


def _step_line(step: StepResult) -> str:
    errors = ",".join(f"{k}={v}" for k, v in sorted(step.errors.items())) or "0"
    cpu = "-" if step.server_cpu_percent is None else f"{step.server_cpu_percent:.0f}%"
    rss = "-" if step.server_rss_bytes is None else f"{step.server_rss_bytes / 2**20:.0f}MB"
    verdict = "ok" if step.meets else ("late" if step.delivered else "FAIL")
    return (
        f"N={step.target:>6} open={step.open_end:>6} ev/s={step.events_per_s:>7.0f} "
        f"p99={_ms(step.lateness.p99):>6}ms max={_ms(step.lateness.max):>6}ms "
        f"ttft99={_ms(step.ttft.p99):>6}ms srv={cpu:>5} rss={rss:>6} "
        f"gen={step.client_cpu_percent:.0f}% err={errors} {verdict}"
    )


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _ratio(value: float | None, base: float | None, *, invert: bool = False) -> str:
    if value is None or base is None or value == 0 or base == 0:
        return "-"
    return f"{(base / value) if invert else (value / base):.1f}x"


def summary_table(series: Sequence[Series], verdicts: dict[str, dict[str, Any]]) -> str:
    base = next((s for s in series if s.impl.key == "baseline"), None)
    base_n = statistics.median(base.largest()) if base and base.runs else None
    base_cpu = base.cpu_per_1k() if base else None
    base_rss = base.rss_per_stream() if base else None
    head = (
        f"{'implementation':<40} {'largest N ok':>18} {'vs base':>8} {'cpu%/1k':>8} "
        f"{'vs base':>8} {'KiB/stream':>10} {'vs base':>8}  conformance"
    )
    lines = [head, "-" * len(head)]
    for s in series:
        largest = s.largest()
        n = statistics.median(largest) if largest else None
        spread = f" ({min(largest)}-{max(largest)})" if len(largest) > 1 else ""
        cpu = s.cpu_per_1k()
        rss = s.rss_per_stream()
        verdict = verdicts.get(s.impl.key, {})
        conf = "n/a" if not s.impl.conformance else verdict.get("summary", "not run")
        if verdict.get("exit_code") not in (None, 0):
            conf = f"FAILED ({conf})"
        lines.append(
            f"{s.impl.title:<40} {_fmt(n, '.0f') + spread:>18} {_ratio(n, base_n):>8} "
            f"{_fmt(cpu, '.1f'):>8} {_ratio(cpu, base_cpu, invert=True):>8} "
            f"{_fmt(None if rss is None else rss / 1024, '.1f'):>10} "
            f"{_ratio(rss, base_rss, invert=True):>8}  {conf}"
        )
    lines.append(
        "largest N ok: most streams with every event delivered and p99 lateness <= 250 ms at a 1 s "
        "interval (median of runs, range in brackets); cpu%/1k: server CPU % per 1,000 streams; "
        "'vs base' > 1x means better than the baseline."
    )
    return "\n".join(lines)


def step_table(series: Sequence[Series], steps: Sequence[int]) -> str:
    """p99 lateness (ms) per implementation and step, first run; '*' marks a step that met the
    criterion, '-' a step not run (its series had stopped)."""
    head = f"{'p99 lateness ms (* = ok)':<40}" + "".join(f"{n:>9}" for n in steps)
    lines = [head, "-" * len(head)]
    for s in series:
        by_n = {st.target: st for st in s.runs[0].steps} if s.runs else {}
        cells = []
        for n in steps:
            st = by_n.get(n)
            if st is None:
                cells.append(f"{'-':>9}")
            else:
                mark = "*" if st.meets else ("" if st.delivered else "!")
                cells.append(f"{_ms(st.lateness.p99) + mark:>9}")
        lines.append(f"{s.impl.title:<40}" + "".join(cells))
    lines.append(
        "'!' = not every event delivered (errors, missing, or < 90 % of the expected events)"
    )
    return "\n".join(lines)


def plot(series: Sequence[Series], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in series:
        if not s.runs:
            continue
        steps = [st for st in s.runs[0].steps if st.lateness.count]
        xs = [st.open_end for st in steps]
        ys = [st.lateness.p99 * 1000 for st in steps]
        style = ":" if not s.impl.conformance else "-"
        ax.plot(xs, ys, marker="o", linestyle=style, label=s.impl.title)
    ax.axhline(250, color="grey", linestyle="--", linewidth=1, label="250 ms criterion")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("open streams (server pinned to one core)")
    ax.set_ylabel("p99 lateness (ms)")
    ax.set_title("SSE delivery lateness vs open streams, 1 s interval")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    p.add_argument("--steps", default="500,1000,2000,5000,10000")
    p.add_argument("--hold", type=float, default=8.0, help="seconds per step")
    p.add_argument("--ramp", type=float, default=2000.0, help="new connections per second")
    p.add_argument("--repeat", type=int, default=1, help="series per implementation")
    p.add_argument("--only", help="comma-separated keys: reference,baseline,sse-starlette,...")
    p.add_argument("--no-conformance", action="store_true")
    p.add_argument("--no-generator-check", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        steps = [int(x) for x in args.steps.split(",") if x.strip()]
    except ValueError:
        print(f"capacity: error: --steps must be integers: {args.steps!r}", file=sys.stderr)
        return 2
    if not steps or args.hold <= 0 or args.ramp <= 0 or args.repeat < 1:
        print("capacity: error: need steps, --hold > 0, --ramp > 0, --repeat >= 1", file=sys.stderr)
        return 2
    ensure_descriptors(max(steps))
    chosen = [i for i in IMPLEMENTATIONS if not args.only or i.key in args.only.split(",")]
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {LOADGEN_CPU})
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = os.getloadavg()
    verdicts: dict[str, dict[str, Any]] = {}
    all_series: list[Series] = []
    for impl in chosen:
        print(f"== {impl.title}", flush=True)
        if not args.no_conformance:
            verdicts[impl.key] = conformance_verdict(impl, args.out)
            print(f"  conformance: {verdicts[impl.key]['summary']}", flush=True)
        series = Series(impl)
        for run in range(args.repeat):
            print(f"  capacity run {run + 1}/{args.repeat}", flush=True)
            with running(impl, 1.0, pin=True) as (url, pid):
                series.runs.append(asyncio.run(measure(url, pid, steps, args.hold, args.ramp)))
        all_series.append(series)
    if not args.no_generator_check:
        print(f"== {GENERATOR_CHECK.title}", flush=True)
        check = Series(GENERATOR_CHECK)
        with running(GENERATOR_CHECK, 1.0, pin=True) as (url, pid):
            report = measure(url, pid, steps, args.hold, args.ramp, keep_going=True)
            check.runs.append(asyncio.run(report))
        all_series.append(check)
    table = summary_table(all_series, verdicts) + "\n\n" + step_table(all_series, steps)
    plot_path = args.out / "capacity.png"
    plotted = plot(all_series, plot_path)
    elapsed = time.monotonic() - started
    text = f"{table}\n\nplot: {plot_path if plotted else 'not written (no matplotlib)'}\n"
    load_after = os.getloadavg()
    text += (
        f"bench time: {elapsed:.0f} s, cpus: {os.cpu_count()}, load average (1 min) before/after: "
        f"{load_before[0]:.1f}/{load_after[0]:.1f} (other work on the machine skews the numbers)\n"
    )
    print("\n" + text)
    (args.out / "capacity.txt").write_text(text, encoding="utf-8")
    payload = {
        "steps": steps,
        "hold_s": args.hold,
        "ramp_per_s": args.ramp,
        "elapsed_s": round(elapsed, 1),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "conformance": verdicts,
        "series": {
            s.impl.key: {
                "title": s.impl.title,
                "largest_meeting": s.largest(),
                "cpu_percent_per_1k": s.cpu_per_1k(),
                "rss_bytes_per_stream": s.rss_per_stream(),
                "runs": [r.as_dict() for r in s.runs],
            }
            for s in all_series
        },
    }
    (args.out / "capacity.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
