"""``sse-conformance load URL``: how many streams an endpoint holds with events still on time.

Bounded by construction: every step lasts at most its ramp budget plus ``--duration``, the
stream count is capped by ``--max-streams-cap`` and by the process's file-descriptor limit, and
the run stops at the first step that misses the criterion (unless ``--keep-going``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conformance.errors import LoadUsageError
from conformance.load.httpwire import parse_target
from conformance.load.report import step_row, table, write_json
from conformance.load.runner import LoadConfig, StepResult, raise_fd_limit, run_load
from conformance.reprs import run_quietly

DEFAULT_CAP = 10_000
MAX_DURATION = 3600.0
FD_MARGIN = 64  # descriptors kept for everything that is not a stream


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise LoadUsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m conformance.load`` (``sse-conformance load`` adds the same
    arguments to its subcommand through :func:`add_arguments`)."""
    p = _Parser(
        prog="sse-conformance load",
        description="Open many concurrent SSE streams and measure delivery (lateness, errors).",
    )
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Every load-mode argument, on ``p``."""
    p.add_argument("url", help="the SSE endpoint, e.g. http://127.0.0.1:8000/api/stream")
    p.add_argument("--streams", type=int, default=100, help="streams to hold (default 100)")
    p.add_argument("--steps", help="comma-separated stream counts, e.g. 500,1000,2000")
    p.add_argument("--ramp", type=float, default=1000.0, help="new connections per second")
    p.add_argument("--duration", type=float, default=10.0, help="seconds to hold each step")
    p.add_argument("--interval", type=float, help="expected seconds between events")
    p.add_argument("--timeout", type=float, default=10.0, help="connect / silence timeout (s)")
    p.add_argument("--min-events", type=int, default=1, help="fewer events at close: early close")
    p.add_argument(
        "--endless",
        action="store_true",
        help="the streams never end: any close by the server is an early close (an error)",
    )
    p.add_argument("--server-pid", type=int, help="report this process's CPU%% and RSS")
    p.add_argument("--p99-limit", type=float, default=250.0, help="lateness p99 limit in ms")
    p.add_argument("--keep-going", action="store_true", help="do not stop at a failing step")
    p.add_argument("--header", action="append", default=[], help="extra 'Name: value' header")
    p.add_argument("--json", type=Path, help="write the report as JSON to this file")
    p.add_argument("--max-streams-cap", type=int, default=DEFAULT_CAP, help="safety bound")
    p.add_argument("--pin-cpu", type=int, help="pin the load generator to this CPU")


def config_from_args(args: argparse.Namespace) -> LoadConfig:
    """Validate every flag into a config; raise LoadUsageError with one sentence."""
    try:
        parse_target(args.url)
    except ValueError as exc:
        raise LoadUsageError(str(exc)) from exc
    if args.steps:
        try:
            steps = [int(part) for part in args.steps.split(",") if part.strip()]
        except ValueError as exc:
            raise LoadUsageError(
                f"--steps must be comma-separated integers: {args.steps!r}"
            ) from exc
        if not steps:
            raise LoadUsageError("--steps is empty")
    else:
        steps = [args.streams]
    if any(n < 1 for n in steps):
        raise LoadUsageError("stream counts must be >= 1")
    if steps != sorted(steps):
        raise LoadUsageError("--steps must not decrease")
    if args.max_streams_cap < 1:
        raise LoadUsageError("--max-streams-cap must be >= 1")
    if max(steps) > args.max_streams_cap:
        raise LoadUsageError(
            f"{max(steps)} streams is above --max-streams-cap {args.max_streams_cap} "
            "(raise the cap if you mean it)"
        )
    for flag, value in (
        ("--ramp", args.ramp),
        ("--interval", args.interval),
        ("--timeout", args.timeout),
        ("--p99-limit", args.p99_limit),
    ):
        if value is not None and not math.isfinite(value):
            raise LoadUsageError(f"{flag} must be a finite number: {value!r}")
    if not args.ramp > 0:
        raise LoadUsageError("--ramp must be > 0")
    if not 0 < args.duration <= MAX_DURATION:
        raise LoadUsageError(f"--duration must be in (0, {MAX_DURATION:g}] seconds")
    if args.interval is not None and not args.interval > 0:
        raise LoadUsageError("--interval must be > 0")
    if not args.timeout > 0:
        raise LoadUsageError("--timeout must be > 0")
    if args.min_events < 0:
        raise LoadUsageError("--min-events must be >= 0")
    if not args.p99_limit > 0:
        raise LoadUsageError("--p99-limit must be > 0")
    headers: dict[str, str] = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise LoadUsageError(f"--header must look like 'Name: value': {item!r}")
        headers[name.strip()] = value.strip()
    if args.server_pid is not None:
        import psutil

        if not psutil.pid_exists(args.server_pid):
            raise LoadUsageError(f"--server-pid {args.server_pid}: no such process")
    return LoadConfig(
        url=args.url,
        steps=steps,
        ramp=args.ramp,
        hold=args.duration,
        interval=args.interval,
        timeout=args.timeout,
        min_events=args.min_events,
        endless=args.endless,
        server_pid=args.server_pid,
        p99_limit=args.p99_limit / 1000.0,
        keep_going=args.keep_going,
        headers=headers,
    )


def ensure_descriptors(streams: int) -> None:
    """Raise the descriptor limit for ``streams`` sockets, or refuse with the reason."""
    needed = streams + FD_MARGIN
    got = raise_fd_limit(needed)
    if got < needed:
        raise LoadUsageError(
            f"{streams} streams need {needed} file descriptors but the hard limit is {got} "
            "(raise it with ulimit -n)"
        )


def main(argv: Sequence[str]) -> int:
    """``python -m conformance.load``: exit 0 every step met the criterion, 1 one did not, 2 bad
    usage (one line on stderr)."""
    try:
        return run(build_parser().parse_args(list(argv)))
    except LoadUsageError as exc:
        print(f"sse-conformance load: error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """Run the load mode from parsed arguments; raises LoadUsageError (LoadUsageError) for settings
    that cannot be used, before any connection is opened."""
    config = config_from_args(args)
    ensure_descriptors(max(config.steps))
    if args.pin_cpu is not None:
        try:
            os.sched_setaffinity(0, {args.pin_cpu})
        except (OSError, AttributeError) as exc:
            raise LoadUsageError(f"--pin-cpu {args.pin_cpu}: {exc}") from exc

    def progress(step: StepResult) -> None:
        print(f"step done: {step_row(step)}", file=sys.stderr, flush=True)

    try:
        report = run_quietly(run_load(config, on_step=progress))
    except KeyboardInterrupt:
        print("sse-conformance load: interrupted", file=sys.stderr)
        return 130
    print(table(report))
    if args.json is not None:
        try:
            write_json(report, args.json)
        except OSError as exc:
            raise LoadUsageError(f"cannot write {args.json}: {exc.strerror or exc}") from None
    return 0 if report.steps and all(step.meets for step in report.steps) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
