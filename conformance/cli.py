"""``sse-conformance``: judge an SSE endpoint from the command line.

    sse-conformance URL [flags]          run the suite, print the verdict table
    sse-conformance decode FILE|-        print the events a browser would dispatch, one JSON per line
    sse-conformance load ...             load mode (conformance.load)

Exit codes: 0 nothing failed (warnings allowed; --strict makes them fail), 1 a check failed,
2 usage error or unreachable target. Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

import httpx

from conformance import checks
from conformance.models import Report
from conformance.parser import Parser
from conformance.profiles import DATA_FORMATS, RESUMABLE, Profile, ProfileError, load_profile
from conformance.reports.text import render_catalogue, render_catalogue_markdown, render_report
from conformance.runner import Progress, run_suite_sync

PROG = "sse-conformance"
DEFAULT_PROFILE = "ram-monitor"


class UsageError(Exception):
    """A one-line reason to exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


NONE = "none"  # what an explicit "--expect-count none" parses to (None means "flag not given")


def _optional_int(text: str) -> int | str:
    if text.lower() in (NONE, ""):
        return NONE
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer (or 'none'): {text!r}") from None


def _optional_float(text: str) -> float | str:
    if text.lower() in (NONE, ""):
        return NONE
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number (or 'none'): {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def parse_header_args(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``Name: value`` strings (the -H flag) to pairs; raises ValueError with a one-line reason."""
    out = []
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header {value!r} is not 'Name: value'")
        out.append((name.strip(), rest.strip()))
    return tuple(out)


def _globs(text: str) -> list[str]:
    return [g.strip() for g in text.split(",") if g.strip()]


# flag dest -> profile field; None values mean "flag not given"
PROFILE_FLAGS = (
    "expect_count",
    "sentinel",
    "data_format",
    "event_type",
    "interval",
    "concurrency",
    "disconnect_clients",
    "first_event_timeout",
    "cadence_tolerance",
    "burst_stall",
    "max_line_warn",
    "resumable",
    "cut_after",
    "reconnect_delay_max",
    "method",
    "last_event_id",
    "connect_timeout",
    "first_byte_timeout",
    "idle_timeout",
    "deadline",
    "max_bytes",
    "max_events",
    "close_grace",
    "max_line_bytes",
)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Judge a Server-Sent Events endpoint check by check "
        "(also: 'sse-conformance decode FILE', 'sse-conformance load ...').",
    )
    p.add_argument("url", nargs="?", help="the SSE endpoint, http:// or https://")
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="built-in name or a .toml file (default ram-monitor)",
    )
    exp = p.add_argument_group("expectations (override the profile)")
    exp.add_argument(
        "--expect-count", type=_optional_int, metavar="N", help="messages expected ('none': any)"
    )
    exp.add_argument("--sentinel", metavar="TEXT", help="data of the last message ('' for none)")
    exp.add_argument("--data-format", choices=DATA_FORMATS)
    exp.add_argument("--event-type", metavar="NAME", help="expected event type ('*' for any)")
    exp.add_argument(
        "--interval", type=_optional_float, metavar="SECONDS", help="expected gap ('none')"
    )
    exp.add_argument("--cadence-tolerance", type=_positive_float, metavar="FRACTION")
    exp.add_argument("--first-event-timeout", type=_positive_float, metavar="SECONDS")
    exp.add_argument(
        "--burst-stall",
        type=_positive_float,
        metavar="SECONDS",
        help="stream.incremental: silence before a burst that counts as buffering (0.25)",
    )
    exp.add_argument(
        "--max-line-warn", type=int, metavar="BYTES", help="framing.line-length warns above (1 MiB)"
    )
    exp.add_argument("--concurrency", type=int, metavar="K", help="clients of stream.concurrent")
    exp.add_argument(
        "--disconnect-clients", type=int, metavar="K", help="aborting clients of stream.disconnect"
    )
    exp.add_argument(
        "--resumable",
        choices=RESUMABLE,
        help="reconnect.*: judge the resume when ids are sent (auto), always (true), never (false)",
    )
    exp.add_argument(
        "--cut-after", type=int, metavar="N", help="reconnect.resume: cut after N events (count/3)"
    )
    exp.add_argument(
        "--reconnect-delay-max",
        type=float,
        metavar="SECONDS",
        help="longest wait before a reconnect, whatever the stream's retry (1)",
    )
    req = p.add_argument_group("request")
    req.add_argument("--method", metavar="METHOD")
    req.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'")
    req.add_argument(
        "--data", "--body", dest="body", metavar="TEXT", help="request body (@FILE reads a file)"
    )
    req.add_argument("--last-event-id", metavar="ID")
    lim = p.add_argument_group("capture limits")
    for flag in (
        "connect-timeout",
        "first-byte-timeout",
        "idle-timeout",
        "deadline",
        "close-grace",
    ):
        lim.add_argument(f"--{flag}", type=_positive_float, metavar="SECONDS")
    for flag in ("max-bytes", "max-events", "max-line-bytes"):
        lim.add_argument(f"--{flag}", type=int, metavar="N")
    sel = p.add_argument_group("selection and output")
    sel.add_argument("--only", type=_globs, action="extend", default=[], metavar="GLOBS")
    sel.add_argument("--skip", type=_globs, action="extend", default=[], metavar="GLOBS")
    sel.add_argument("--list-checks", action="store_true", help="print the catalogue and exit")
    sel.add_argument("--markdown", action="store_true", help="with --list-checks: docs/checks.md")
    sel.add_argument("--strict", action="store_true", help="warnings fail too")
    sel.add_argument("--json-report", metavar="FILE")
    sel.add_argument("--junit-xml", metavar="FILE")
    sel.add_argument("--html-report", metavar="FILE")
    sel.add_argument(
        "--save-body",
        metavar="FILE",
        help="write the captured body (decoded bytes): replay with decode",
    )
    sel.add_argument("--progress", action="store_true", help="progress line even when not a TTY")
    sel.add_argument("--no-color", action="store_true")
    launch = p.add_argument_group("launch the server under test")
    launch.add_argument("--launch", metavar="CMD", help="start CMD, wait for the URL, run, stop it")
    launch.add_argument("--ready-timeout", type=_positive_float, default=30.0, metavar="SECONDS")
    launch.add_argument("--launch-grace", type=_positive_float, default=5.0, metavar="SECONDS")
    return p


def profile_from_args(args: argparse.Namespace) -> Profile:
    """The profile named by ``args.profile`` with every given flag applied.

    Reusable by other front ends (the pytest plugin): attributes that are missing or None count as
    "not given"; ``"none"`` for expect_count/interval, ``""`` for sentinel and ``"*"`` for
    event_type unset the expectation. Raises UsageError / ProfileError with one-line messages.
    """
    profile = load_profile(getattr(args, "profile", None) or DEFAULT_PROFILE)
    overrides: dict[str, Any] = {}
    for name in PROFILE_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = (
                None if value == NONE and name in ("expect_count", "interval") else value
            )
    if overrides.get("sentinel") == "":
        overrides["sentinel"] = None
    if overrides.get("event_type") == "*":
        overrides["event_type"] = None
    if overrides.get("method"):
        overrides["method"] = overrides["method"].upper()
    if getattr(args, "header", None):
        try:
            given = parse_header_args(args.header)
            names = {name.lower() for name, _ in given}
            kept = tuple(h for h in profile.headers if h[0].lower() not in names)
            overrides["headers"] = kept + given  # a flag replaces the profile's header of that name
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if getattr(args, "body", None) is not None:
        overrides["body"] = _read_body(args.body)
    return profile.replace(**overrides)


def _read_body(value: str) -> str:
    if not value.startswith("@"):
        return value
    try:
        with open(value[1:], encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read body file {value[1:]}: {exc.strerror or exc}") from None


def _check_url(url: str | None) -> str:
    if not url:
        raise UsageError("a URL is required (or --list-checks)")
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"the URL must start with http:// or https://: {url!r}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if not parsed.host:
        raise UsageError(f"the URL has no host: {url!r}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UsageError(f"the URL's port is out of range: {url!r}")
    return url


class ProgressLine:
    """``\\r``-rewritten status line on stderr, at most 10 times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0
        self.shown = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.phase == "capturing" and now - self.last < 0.1:
            return
        self.last = now
        self.shown = True
        self.stream.write(f"\r{p.phase}: {p.events} events, {p.bytes} bytes, {p.elapsed:.1f}s   ")
        self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def _write_reports(report: Report, args: argparse.Namespace, launch_output: str | None) -> None:
    if args.save_body:
        with open(args.save_body, "wb") as fh:
            for chunk in report.capture.chunks:
                fh.write(chunk.data)
    if args.json_report:
        from conformance.reports.json import write_json

        write_json(report, args.json_report, strict=args.strict)
    if args.junit_xml:
        from conformance.reports.junit import write_junit

        write_junit(report, args.junit_xml, strict=args.strict)
    if args.html_report:
        try:
            module = importlib.import_module("conformance.reports.html")
        except ImportError as exc:
            raise UsageError(f"--html-report is not available: {exc}") from None
        module.write_html_report(
            report, args.html_report, launch_output=launch_output, strict=args.strict
        )


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_checks:
        specs = checks.all_checks()
        out.write(
            (render_catalogue_markdown(specs) if args.markdown else render_catalogue(specs)) + "\n"
        )
        return 0
    url = _check_url(args.url)
    try:
        profile = profile_from_args(args)
        checks.select(args.only, args.skip)
    except (ProfileError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    show_progress = args.progress or err.isatty()
    line = ProgressLine(err) if show_progress else None

    def execute() -> Report:
        try:
            return run_suite_sync(url, profile, only=args.only, skip=args.skip, progress=line)
        finally:
            if line is not None:
                line.clear()

    report, launch_output = _with_launch(args, url, execute)
    if report.unreachable:
        raise UsageError(f"cannot reach {url}: {report.capture.end_message}")
    color = not args.no_color and out.isatty() and "NO_COLOR" not in os.environ
    out.write(render_report(report, color=color, strict=args.strict) + "\n")
    try:
        _write_reports(report, args, launch_output)
    except OSError as exc:
        raise UsageError(f"cannot write a report: {exc.filename}: {exc.strerror or exc}") from None
    return report.exit_code(args.strict)


def _with_launch(
    args: argparse.Namespace, url: str, execute: Callable[[], Report]
) -> tuple[Report, str | None]:
    """Run the suite, inside ``--launch``'s server lifetime when given (it is always stopped)."""
    if not args.launch:
        return execute(), None
    from conformance import launch

    try:
        with launch.launched(
            args.launch, url, ready_timeout=args.ready_timeout, grace=args.launch_grace
        ) as server:
            report = execute()
            return report, server.output()
    except launch.LaunchError as exc:
        raise UsageError(" ".join(str(exc).split())) from None


def decode(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    p = _Parser(prog=f"{PROG} decode", description="Print the events a browser would dispatch.")
    p.add_argument("file", help="a captured event stream (raw bytes), or - for stdin")
    p.add_argument("--observations", action="store_true", help="also print observations to stderr")
    args = p.parse_args(argv)
    try:
        if args.file == "-":
            source = sys.stdin.buffer
            close = False
        else:
            source = open(args.file, "rb")  # noqa: SIM115 (closed below)
            close = True
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    parser = Parser()
    try:
        while block := source.read(65536):
            for event in parser.feed(block):
                out.write(_event_json(event.type, event.data, event.last_event_id) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    finally:
        if close:
            source.close()
    parser.close()
    if args.observations:
        for obs in parser.observations:
            err.write(f"{obs.kind} @{obs.offset}: {obs.detail}\n")
    return 0


def _event_json(type_: str, data: str, last_event_id: str) -> str:
    return json.dumps(
        {"type": type_, "data": data, "last_event_id": last_event_id}, ensure_ascii=False
    )


def load(argv: Sequence[str]) -> int:
    try:
        module = importlib.import_module("conformance.load.cli")
    except ImportError as exc:
        raise UsageError(f"load mode is not available: {exc}") from None
    result: int = module.main(list(argv))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["decode"]:
            return decode(argv[1:], sys.stdout, sys.stderr)
        if argv[:1] == ["load"]:
            return load(argv[1:])
        return run(argv, sys.stdout, sys.stderr)
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
