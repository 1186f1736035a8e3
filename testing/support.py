"""Servers for tests: every one binds 127.0.0.1 on a free port and is stopped by its context."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class RunningServer:
    port: int
    base_url: str


@contextlib.contextmanager
def uvicorn_thread(app: Any, **config: Any) -> Iterator[RunningServer]:
    """Serve an ASGI app from a thread of this process (for tests that inspect the app)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield RunningServer(port, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class RunningProcess(RunningServer):
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def server_process(
    argv: Sequence[str], *, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[RunningProcess]:
    """Run ``python <argv> --port PORT`` as a real process; SIGKILL it if it outlives the test."""
    port = port or free_port()
    cmd = [sys.executable, *argv, "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield RunningProcess(port, f"http://127.0.0.1:{port}", proc)
    finally:
        stop_process(proc)
        if proc.stdout:
            proc.stdout.close()


def stop_process(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``grace`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
