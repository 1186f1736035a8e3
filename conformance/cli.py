"""``sse-conformance``: judge an SSE endpoint from the command line.

    sse-conformance [run] URL [flags]    run the suite, print the verdict table
    sse-conformance decode FILE|-        print the events a browser would dispatch, one JSON per line
    sse-conformance load ...             load mode (conformance.load)

Subcommands of one argparse parser; the run is the default, so ``sse-conformance URL`` works.

Exit codes: 0 nothing failed (warnings allowed; --strict makes them fail), 1 a check failed,
2 usage error or unreachable target. Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from conformance import __version__, checks
from conformance.capture.connect_errors import unreachable_message
from conformance.checks.registry import for_profile
from conformance.diagnosis import not_a_stream
from conformance.errors import UsageError, one_line
from conformance.models import Report
from conformance.parser import Parser
from conformance.profiles import profile_from_flags
from conformance.reports import write_reports
from conformance.reports.text import render_catalogue, render_catalogue_markdown, render_report
from conformance.runner import Progress, browser_options, run_suite_sync
from conformance.settings import RunOptions, add_arguments, check_url, run_options

PROG = "sse-conformance"
RUN = "run"
COMMANDS = (RUN, "decode", "load")


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _CommandLine(_Parser):
    """``sse-conformance URL [flags]`` is ``sse-conformance run URL [flags]``: the run is the
    default subcommand, so the short form keeps working beside ``decode`` and ``load``."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        argv = list(sys.argv[1:] if args is None else args)
        if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
            argv.insert(0, RUN)
        return super().parse_known_args(argv, namespace)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the run (default), ``decode`` and ``load`` subcommands.

    The run's options are generated from the settings table (:mod:`conformance.settings`); their
    values stay text until :func:`conformance.settings.run_options` and
    :func:`conformance.profiles.profile_from_flags` convert them.
    """
    p = _CommandLine(
        prog=PROG,
        description="Judge a Server-Sent Events endpoint check by check. "
        f"'{PROG} URL [flags]' is short for '{PROG} run URL [flags]'.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{run,decode,load}", parser_class=_Parser)
    run = sub.add_parser(
        RUN,
        help="judge URL, print the verdict table (the default command)",
        description="Judge a Server-Sent Events endpoint check by check.",
    )
    run.add_argument("url", nargs="?", help="the SSE endpoint, http:// or https://")
    add_arguments(run)
    more = run.add_argument_group("this command only")
    more.add_argument("--list-checks", action="store_true", help="print the catalogue and exit")
    more.add_argument("--markdown", action="store_true", help="with --list-checks: docs/checks.md")
    more.add_argument("--progress", action="store_true", help="progress line even when not a TTY")
    more.add_argument("--no-color", action="store_true")
    dec = sub.add_parser(
        "decode",
        help="print the events a browser would dispatch from a captured body",
        description="Print the events a browser would dispatch, one JSON object per line.",
    )
    dec.add_argument("file", help="a captured event stream (raw bytes), or - for stdin")
    dec.add_argument("--observations", action="store_true", help="also print observations")
    load = sub.add_parser(
        "load",
        help="open many streams and measure delivery (conformance.load)",
        description="Open many concurrent SSE streams and measure delivery (lateness, errors).",
    )
    try:
        load_cli = importlib.import_module("conformance.load.cli")
    except ImportError as exc:  # the load mode is optional: say so when it is asked for
        load.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        load.set_defaults(load_unavailable=str(exc))
    else:
        load_cli.add_arguments(load)
    return p


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


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The suite run: exit 0 nothing failed, 1 a check failed (or warned, strict); raises
    UsageError for bad input, an unreachable target or a report that cannot be written."""
    if args.list_checks:
        # --profile P: the checks that judge P (generic ones and its contract's); else all of them
        if args.profile is None:
            specs = checks.all_checks()
        else:
            specs = for_profile(profile_from_flags(vars(args)).contract)
        out.write(
            (render_catalogue_markdown(specs) if args.markdown else render_catalogue(specs)) + "\n"
        )
        return 0
    url = check_url(args.url)
    values = vars(args)
    options = run_options(values)
    checks.select(options.only, options.skip)  # a glob that matches nothing: one line, exit 2
    profile = profile_from_flags(values)
    show_progress = args.progress or err.isatty()
    line = ProgressLine(err) if show_progress else None
    browser = browser_options(options, profile)

    def execute() -> Report:
        try:
            return run_suite_sync(
                url, profile, only=options.only, skip=options.skip, progress=line, browser=browser
            )
        finally:
            if line is not None:
                line.clear()

    report, launch_output = _with_launch(options, url, execute)
    if report.unreachable:
        cap = report.capture
        raise UsageError(unreachable_message(url, cap.end_message, bool(cap.redirects)))
    color = not args.no_color and out.isatty() and "NO_COLOR" not in os.environ
    verdict = not_a_stream(report.capture)
    if verdict is None:
        out.write(render_report(report, color=color, strict=options.strict) + "\n")
    else:
        out.write(_not_a_stream_text(report, verdict))
    write_reports(
        report,
        json=options.json_report,
        junit=options.junit_xml,
        html=options.html_report,
        body=options.save_body,
        strict=options.strict,
        launch_output=launch_output,
    )
    _list_reports(options, out)
    return report.exit_code(options.strict)


# --- first-run help (issue 14): a target that is not a stream, where the reports went ---------


def _not_a_stream_text(report: Report, verdict: str) -> str:
    """One FAIL instead of a table of skips and framing warnings about HTML."""
    cap = report.capture
    judged = sum(1 for r in report.results if r.verdict.value != "skip")
    return (
        f"{report.target}  HTTP {cap.status}\n\n"
        f"FAIL  {verdict}\n"
        f"      ({len(report.results)} checks ran, {judged} judged; they are in the reports: "
        "--json-report / --html-report)\n"
    )


def _list_reports(options: RunOptions, out: TextIO) -> None:
    """Say where each report written went, so a user (or CI log) can open it."""
    written = [
        ("JSON report", options.json_report),
        ("JUnit XML", options.junit_xml),
        ("HTML report", options.html_report),
        ("captured body", options.save_body),
    ]
    for label, path in written:
        if path:
            out.write(f"wrote {label}: {path}\n")


# --- end of first-run help ---------------------------------------------------------------------


def _with_launch(
    options: RunOptions, url: str, execute: Callable[[], Report]
) -> tuple[Report, str | None]:
    """Run the suite, inside ``--launch``'s server lifetime when given (it is always stopped).

    Raises LaunchError when the command never gets ready."""
    if not options.launch:
        return execute(), None
    from conformance import launch

    with launch.launched(
        options.launch, url, ready_timeout=options.ready_timeout, grace=options.launch_grace
    ) as server:
        report = execute()
        return report, server.output()


def decode(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``decode FILE``: the events a browser would dispatch; raises UsageError when unreadable."""
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
    except BrokenPipeError:
        raise  # the reader of our stdout left (`| head`): main() exits quietly
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


def load(args: argparse.Namespace) -> int:
    """``load URL ...``: the load mode; raises UsageError (LoadUsageError) for bad settings."""
    unavailable: Any = getattr(args, "load_unavailable", None)
    if unavailable:
        raise UsageError(f"load mode is not available: {unavailable}")
    code: int = importlib.import_module("conformance.load.cli").run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sse-conformance``: the exit code; every error is one line on stderr."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv[:1] and argv[0] in COMMANDS else RUN
    prefix = f"{PROG} load" if command == "load" else PROG
    try:
        args = build_parser().parse_args(argv)
        if args.command == "decode":
            return decode(args, sys.stdout, sys.stderr)
        if args.command == "load":
            return load(args)
        return run(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        sys.stderr.write(f"{prefix}: error: {one_line(str(exc))}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        # `sse-conformance decode FILE | head`: the reader left. Point stdout at devnull so the
        # interpreter's final flush does not print "Exception ignored ... BrokenPipeError".
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
