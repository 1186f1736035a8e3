"""``sse-conformance load --processes N`` end to end: two workers against a loopback server, the
merged counts against what the server saw, and no worker left once the parent is gone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from conformance.load.cli import main

pytestmark = pytest.mark.slow  # each spawns two Python workers and holds streams for seconds

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


class Ticker:
    """Endless streams, an event every 0.1 s with consecutive ids; counts what it answered."""

    def __init__(self) -> None:
        self.answered = 0
        self.sent = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HEAD)
            self.answered += 1
            n = 0
            while True:
                payload = b"id: %d\ndata: tick\n\n" % n
                writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                self.sent += 1
                n += 1
                await writer.drain()
                await asyncio.sleep(0.1)
        writer.close()


@contextlib.contextmanager
def ticker() -> Iterator[tuple[str, Ticker]]:
    state = Ticker()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        server = await asyncio.start_server(state.handle, "127.0.0.1", 0, backlog=1024)
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["server"] = server
        started.set()
        async with server:
            await server.serve_forever()

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(5)
    try:
        yield f"http://127.0.0.1:{holder['port']}/", state
    finally:

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()

        loop.call_soon_threadsafe(stop)
        thread.join(5)


def test_two_processes_merge_to_what_the_server_answered(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    with ticker() as (url, state):
        code = main(
            [url, "--streams", "200", "--duration", "2", "--interval", "0.1", "--processes", "2",
             "--endless", "--json", str(out)]
        )  # fmt: skip
        answered = state.answered
    report = json.loads(out.read_text())
    step = report["steps"][0]
    assert code == 0, step
    assert report["processes"] == 2
    assert step["target"] == 200
    assert step["connections"] == answered == 200
    assert step["open_end"] == 200
    assert step["errors"] == {}
    assert step["missing"] == 0
    assert step["events"] >= 0.9 * 200 * step["hold_s"] / 0.1
    assert len(step["loop_lag_p99_ms_per_process"]) == 2
    assert step["loop_lag_p99_ms_worst"] == max(step["loop_lag_p99_ms_per_process"])
    assert step["itl"]["count"] >= step["events"] - 400


def _start(url: str) -> tuple[subprocess.Popen[bytes], list[psutil.Process]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.load", url, "--streams", "20", "--duration", "60",
         "--interval", "0.1", "--processes", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 20
    children: list[psutil.Process] = []
    while time.monotonic() < deadline:
        children = [c for c in parent.children(recursive=True) if "spawn" in " ".join(c.cmdline())]
        if len(children) >= 2:
            break
        time.sleep(0.1)
    assert len(children) >= 2, "the workers did not start"
    time.sleep(2)  # the workers are streaming
    return proc, children


def _gone(children: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(children, timeout=15)
    return not alive


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_no_worker_outlives_its_parent(how: str) -> None:
    with ticker() as (url, _):
        proc, children = _start(url)
        try:
            if how == "sigint":
                proc.send_signal(signal.SIGINT)
                assert proc.wait(20) == 130
                assert b"interrupted" in proc.stderr.read() if proc.stderr else True
            else:
                proc.kill()
                proc.wait(20)
            assert _gone(children)
        finally:
            for child in children:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            if proc.stderr:
                proc.stderr.close()
