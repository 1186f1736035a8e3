"""``sse-conformance load URL``: how many streams an endpoint holds with events still on time.

The request is the suite's: ``--profile`` and the request settings (``--method``, ``-H``,
``--data``, ``--last-event-id``) and ``--interval`` come from the settings table
(:mod:`conformance.settings`), so ``--profile openai-chat`` POSTs the same body a conformance
run sends. Load-only flags (steps, ramp, arrival rate, TLS verification) are declared here.

Bounded by construction: every step lasts at most its ramp budget plus ``--duration`` (open
loop: ``--duration`` plus ``--timeout`` to drain), the stream count is capped by
``--max-streams-cap`` and by the process's file-descriptor limit, and the run stops at the
first step that misses the criterion (unless ``--keep-going``).
"""

from __future__ import annotations

import argparse
import math
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from conformance import settings
from conformance.errors import LoadUsageError, UsageError
from conformance.load.client import tls_context
from conformance.load.httpwire import build_request, parse_target
from conformance.load.merge import share_config
from conformance.load.process import ensure_descriptors, prepare_process
from conformance.load.report import step_row, table, write_json, write_plot
from conformance.load.results import LoadReport
from conformance.load.runner import LoadConfig, StepResult, run_load_sync
from conformance.load.workers import WorkerError, check_processes, run_processes

DEFAULT_CAP = 10_000
MAX_DURATION = 3600.0
DEFAULT_TIMEOUT = 10.0
# The suite's settings the load mode takes from the table (and the profile).
# first_byte_timeout bounds the whole response head, first_event_timeout the first event
# (each a ``timeout:PHASE`` error); --timeout stays the connect and silence limit.
TABLE_SETTINGS = (
    "profile",
    "interval",
    "method",
    "headers",
    "body",
    "last_event_id",
    "first_byte_timeout",
    "first_event_timeout",
)


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
    p.add_argument(
        "--arrival-rate",
        help="open loop: new streams per second whatever the answers (comma-separated: steps)",
    )
    p.add_argument("--ramp", type=float, default=1000.0, help="new connections per second")
    p.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds to hold each step (open loop: of arrivals)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        help="connect / silence timeout (s); default the profile's first-byte timeout, >= 10",
    )
    p.add_argument("--min-events", type=int, default=1, help="fewer events at close: early close")
    p.add_argument(
        "--endless",
        action="store_true",
        help="the streams never end: any close by the server is an early close (an error)",
    )
    p.add_argument("--server-pid", type=int, help="report this process's CPU%% and RSS")
    p.add_argument("--p99-limit", type=float, default=250.0, help="lateness p99 limit in ms")
    p.add_argument("--ttft-limit", type=float, help="TTFT p99 limit in ms (part of the criterion)")
    p.add_argument("--keep-going", action="store_true", help="do not stop at a failing step")
    p.add_argument("--cacert", help="https: trust the CA certificates in this PEM file")
    p.add_argument("--insecure", action="store_true", help="https: do not verify the certificate")
    p.add_argument("--json", type=Path, help="write the report as JSON to this file")
    p.add_argument("--plot", type=Path, help="write TTFT / ITL per step as a PNG (matplotlib)")
    p.add_argument("--max-streams-cap", type=int, default=DEFAULT_CAP, help="safety bound")
    p.add_argument("--pin-cpu", type=int, help="pin the load generator (every process) to this CPU")
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes sharing the streams / arrivals (default 1); figures merged",
    )
    settings.add_arguments(p, TABLE_SETTINGS)


def _profile(args: argparse.Namespace) -> Any:
    from conformance.profiles import profile_from_flags

    values = {name: getattr(args, name, None) for name in TABLE_SETTINGS}
    try:
        return profile_from_flags(values)
    except UsageError as exc:
        raise LoadUsageError(str(exc)) from None


def _rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise LoadUsageError(f"--arrival-rate must be comma-separated numbers: {text!r}") from exc
    if not rates:
        raise LoadUsageError("--arrival-rate is empty")
    if any(not (r > 0 and math.isfinite(r)) for r in rates):
        raise LoadUsageError("arrival rates must be > 0")
    if rates != sorted(rates):
        raise LoadUsageError("--arrival-rate must not decrease")
    return rates


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if args.cacert is None and not args.insecure:
        return None
    if args.cacert is not None and args.insecure:
        raise LoadUsageError("--cacert and --insecure exclude each other")
    try:
        return tls_context(cacert=args.cacert, insecure=args.insecure)
    except (OSError, ssl.SSLError) as exc:
        raise LoadUsageError(f"--cacert {args.cacert}: {exc}") from None


def config_from_args(args: argparse.Namespace) -> LoadConfig:
    """Validate every flag into a config; raise LoadUsageError with one sentence."""
    try:
        target = parse_target(args.url)
    except ValueError as exc:
        raise LoadUsageError(str(exc)) from exc
    profile = _profile(args)
    rates = _rates(args.arrival_rate) if args.arrival_rate else []
    if args.steps:
        if rates:
            raise LoadUsageError(
                "--steps (closed loop) and --arrival-rate (open loop) exclude each other"
            )
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
    if not rates and max(steps) > args.max_streams_cap:
        raise LoadUsageError(
            f"{max(steps)} streams is above --max-streams-cap {args.max_streams_cap} "
            "(raise the cap if you mean it)"
        )
    # (--interval comes from the settings table, which refuses non-finite numbers itself)
    for flag, value in (
        ("--ramp", args.ramp),
        ("--timeout", args.timeout),
        ("--p99-limit", args.p99_limit),
    ):
        if value is not None and not math.isfinite(value):
            raise LoadUsageError(f"{flag} must be a finite number: {value!r}")
    if not args.ramp > 0:
        raise LoadUsageError("--ramp must be > 0")
    if not 0 < args.duration <= MAX_DURATION:
        raise LoadUsageError(f"--duration must be in (0, {MAX_DURATION:g}] seconds")
    timeout = args.timeout
    if timeout is None:
        timeout = max(DEFAULT_TIMEOUT, profile.limits.first_byte_timeout)
    if not timeout > 0:
        raise LoadUsageError("--timeout must be > 0")
    if args.min_events < 0:
        raise LoadUsageError("--min-events must be >= 0")
    if not args.p99_limit > 0:
        raise LoadUsageError("--p99-limit must be > 0")
    if args.ttft_limit is not None and not args.ttft_limit > 0:
        raise LoadUsageError("--ttft-limit must be > 0")
    if target.scheme != "https" and (args.cacert or args.insecure):
        raise LoadUsageError("--cacert and --insecure are for https:// URLs")
    extra: dict[str, str] = {}
    if profile.last_event_id is not None:
        extra["Last-Event-ID"] = profile.last_event_id
    body = None if profile.body is None else profile.body.encode("utf-8")
    try:
        build_request(target, extra, method=profile.method, headers=profile.headers, body=body)
    except ValueError as exc:
        raise LoadUsageError(str(exc)) from None
    if args.server_pid is not None:
        import psutil

        if not psutil.pid_exists(args.server_pid):
            raise LoadUsageError(f"--server-pid {args.server_pid}: no such process")
    return LoadConfig(
        url=args.url,
        steps=steps,
        ramp=args.ramp,
        hold=args.duration,
        interval=profile.interval,
        timeout=timeout,
        head_timeout=profile.limits.first_byte_timeout,
        first_event_timeout=profile.first_event_timeout,
        min_events=args.min_events,
        endless=args.endless,
        server_pid=args.server_pid,
        p99_limit=args.p99_limit / 1000.0,
        keep_going=args.keep_going,
        headers=extra,
        method=profile.method,
        profile_headers=profile.headers,
        body=body,
        ssl_context=_tls(args),
        arrival_rates=rates,
        ttft_limit=None if args.ttft_limit is None else args.ttft_limit / 1000.0,
        max_open=args.max_streams_cap,
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
    processes = check_processes(args.processes)
    if processes > 1:
        return _run_processes(args, config, processes)
    prepare_process(config.max_open if config.arrival_rates else max(config.steps), args.pin_cpu)

    try:
        report = run_load_sync(config, on_step=_progress)
    except KeyboardInterrupt:
        print("sse-conformance load: interrupted", file=sys.stderr)
        return 130
    return _output(args, report)


def _progress(step: StepResult) -> None:
    print(f"step done: {step_row(step)}", file=sys.stderr, flush=True)


def _run_processes(args: argparse.Namespace, config: LoadConfig, processes: int) -> int:
    """--processes N: the run over N workers (conformance.load.workers), merged."""
    share = share_config(config, 0, processes)
    ensure_descriptors(share.max_open if share.arrival_rates else max(share.steps))
    try:
        report = run_processes(
            args,
            config,
            processes,
            build=config_from_args,
            on_step=_progress,
        )
    except KeyboardInterrupt:
        print("sse-conformance load: interrupted", file=sys.stderr)
        return 130
    except WorkerError as exc:
        print(f"sse-conformance load: {exc}", file=sys.stderr)
        return 1
    return _output(args, report)


def _output(args: argparse.Namespace, report: LoadReport) -> int:
    """The table on stdout, --json and --plot; raises LoadUsageError when a file cannot be
    written."""
    print(table(report))
    if args.json is not None:
        try:
            write_json(report, args.json)
        except OSError as exc:
            raise LoadUsageError(f"cannot write {args.json}: {exc.strerror or exc}") from None
    if args.plot is not None:
        try:
            write_plot(report, args.plot)
        except ImportError:
            raise LoadUsageError("--plot needs matplotlib (extra: bench)") from None
        except OSError as exc:
            raise LoadUsageError(f"cannot write {args.plot}: {exc.strerror or exc}") from None
    return 0 if report.steps and all(step.meets for step in report.steps) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
