"""``python -m reference`` / ``ram-monitor``: run the reference with uvicorn.

uvicorn's graceful shutdown waits for every open response to finish, and an SSE stream may run for
minutes. :class:`StreamingServer` ends every stream as soon as the signal arrives (the hub wakes
them, each finishes its response cleanly), then lets uvicorn shut down. Ending thousands of
responses still costs a send and a close each; so the signal also arms an :class:`ExitWatchdog`
thread that exits the process ``shutdown_timeout`` seconds after the signal whatever is left
(the kernel then closes the remaining sockets). SIGINT/SIGTERM therefore exit within that bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

import uvicorn

from reference.app import create_app
from reference.head_limits import bounded_protocol
from reference.settings import ConfigError, Settings, parse_settings
from reference.stream import StreamHub

logger = logging.getLogger("reference.server")


class ExitWatchdog:
    """Exits the process ``limit`` seconds after :meth:`arm` unless the process is gone by then.

    A daemon thread, because the event loop may be too busy ending streams to run a timer.
    """

    def __init__(
        self, limit: float, hub: StreamHub, exit_process: Callable[[int], object] = os._exit
    ) -> None:
        self.limit = limit
        self.hub = hub
        self.exit_process = exit_process
        self.code = 0
        self.thread: threading.Thread | None = None
        self._cancelled = threading.Event()

    def arm(self, code: int) -> None:
        if self.thread is not None:
            return
        self.code = code
        self.thread = threading.Thread(
            target=self._run, name="reference-exit-watchdog", daemon=True
        )
        self.thread.start()

    def cancel(self) -> None:
        self._cancelled.set()

    def _run(self) -> None:
        if self._cancelled.wait(self.limit):
            return
        logger.warning(
            "%d stream(s) still open %.1f s after the signal: exiting anyway",
            self.hub.open_streams,
            self.limit,
        )
        for handler in logging.getLogger().handlers + logging.getLogger("uvicorn").handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        self.exit_process(self.code)


class StreamingServer(uvicorn.Server):
    """uvicorn.Server that ends the open SSE streams as soon as it is asked to stop."""

    def __init__(self, config: uvicorn.Config, hub: StreamHub, shutdown_timeout: float) -> None:
        super().__init__(config)
        self.hub = hub
        self.watchdog = ExitWatchdog(shutdown_timeout, hub)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # Runs in the main thread, which runs the loop: start ending streams now rather than at
        # uvicorn's next 0.1 s poll, and bound the whole shutdown.
        self.watchdog.arm(128 + sig)
        with contextlib.suppress(RuntimeError):  # no loop yet: shutdown() will do it
            asyncio.get_running_loop().call_soon_threadsafe(self.hub.shutdown)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.hub.shutdown()
        await super().shutdown(sockets)
        self.watchdog.cancel()


def http_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with the request-head bounds of ``settings`` (reference.head_limits)."""
    return bounded_protocol(settings.max_head_bytes, settings.head_timeout)


def create_server(settings: Settings) -> StreamingServer:
    """The server ``main`` runs; tests use it to run the real thing in a thread."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=1,
        lifespan="on",
        http=http_protocol(settings),
    )
    return StreamingServer(config, app.state.hub, settings.shutdown_timeout)


GC_THRESHOLDS = (50_000, 50, 1000)  # CPython's default: (700, 10, 10)


def tune_gc() -> None:
    """Keep the cyclic garbage collector from stalling every stream while connections churn.

    Measured (bench/churn.py: 1,000 open streams while 6,000 more arrive at 1,000 per second,
    then end and reconnect): p99 lateness of the open streams 200 ms during the ramp and 204 ms
    while streams end, against 2 ms in steady state. Accepting and closing connections allocates
    fast (uvicorn's protocol, h11, Starlette's request and response, a task each), so the
    default thresholds run a collection every few hundred allocations, and the oldest
    generation, which holds every open stream's objects, is walked every few seconds: each walk
    of 10,000 streams blocks the loop for tens of milliseconds. With the start-up heap frozen and
    collections made rarer: 10 ms during the ramp and 10 ms while streams end. Cycles are still
    collected, only less often. Only the process entry point does this (tests build the app in
    their own process). Never raises."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_settings(sys.argv[1:] if argv is None else argv)
    except ConfigError as error:
        print(f"ram-monitor: error: {error}", file=sys.stderr)
        return 2
    # If the port is taken uvicorn logs one line and exits 1 by itself.
    server = create_server(settings)
    tune_gc()
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
