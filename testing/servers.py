"""Serve one known-good or known-bad server by hand: ``python -m testing.servers NAME``.

``--list`` names them; each is the server a test of ``tests/conformance/test_known_servers.py``
judges, at a pace a person can watch (``--interval``, 1 s by default).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence

from testing.known_servers import never_answer, shared_generator, wedge_after_abort
from testing.ram_stream import plain_text
from testing.rawhttp import Handler, threaded_sse_server
from testing.sse_response import SseResponse, error_page


def presets(interval: float) -> dict[str, Callable[[], Handler]]:
    """Named servers for trying the suite by hand (``python -m testing.servers NAME``)."""
    good = SseResponse(interval=interval)
    r = dataclasses.replace
    return {
        "good": lambda: good,
        "crlf": lambda: r(good, eol=b"\r\n"),
        "cr-only": lambda: r(good, eol=b"\r"),
        "bom-lf": lambda: r(good, bom=b"\xef\xbb\xbf\n"),
        "text-plain": lambda: r(good, headers=(("Content-Type", "text/plain"),)),
        "status-500": lambda: error_page(500, b"Internal Server Error"),
        "status-204": lambda: SseResponse(status=204, headers=()),
        "unterminated": lambda: r(good, terminate_last=False),
        "merged": lambda: r(good, separator=b""),
        "no-sentinel": lambda: r(good, transform=lambda texts: texts[:-1]),
        "not-json": lambda: r(good, encode=plain_text),
        "event-type": lambda: r(good, event_type="ram"),
        "buffered": lambda: r(good, buffered=True),
        "content-length": lambda: r(good, framing="length"),
        "gzip": lambda: r(good, gzip=True),
        "never-closes": lambda: r(good, after_sentinel="hang"),
        "never-answers": lambda: never_answer,
        "infinite": lambda: r(good, infinite=True),
        "shared-generator": lambda: shared_generator(good),
        "wedges": lambda: wedge_after_abort(good),
    }


def serve_preset(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    table_at: Callable[[float], dict[str, Callable[[], Handler]]],
) -> int:
    """The ``python -m testing.servers``-style command: ``NAME [--interval S]`` serves the preset
    ``table_at(interval)[NAME]`` on 127.0.0.1 until Ctrl-C, ``--list`` names them. Returns the
    exit code (2 for an unknown name or an interval outside (0, 60]); raises nothing."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("name", nargs="?", help="which server (--list shows them)")
    parser.add_argument("--list", action="store_true", help="list the servers and exit")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between messages")
    args = parser.parse_args(argv)
    table = table_at(args.interval)
    if args.list or args.name is None:
        with contextlib.suppress(BrokenPipeError):  # `... --list | head`
            print("\n".join(table), flush=True)
        return 0
    if args.name not in table:
        print(f"unknown server {args.name!r}; one of: {', '.join(table)}", file=sys.stderr)
        return 2
    if not 0 < args.interval <= 60:
        print("--interval must be in (0, 60]", file=sys.stderr)
        return 2
    with threaded_sse_server(table[args.name]()) as server:
        print(f"{args.name}: {server.url}  (Ctrl-C stops it)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def main(argv: Sequence[str] | None = None) -> int:
    return serve_preset(
        argv,
        prog="python -m testing.servers",
        description="Serve one known-good or known-bad SSE server on 127.0.0.1 until Ctrl-C.",
        table_at=presets,
    )


if __name__ == "__main__":
    sys.exit(main())
