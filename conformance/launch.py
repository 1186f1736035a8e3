"""Start the server under test, wait until its URL answers, and always stop it afterwards.

Why a module of its own: CI jobs and ``nox -s conformance`` want one command that brings the
implementation up, judges it and tears it down, and a launcher that leaks a server (on Ctrl-C, on
an exception, on a shell wrapper that forks) poisons the next run's port. So the command runs in a
process group of its own and the whole group is signalled: SIGTERM, then SIGKILL after a grace
period.

Readiness is "the URL's host:port accepts a TCP connection" (plus, when ``ready_url`` is given, an
HTTP answer of any status from that URL). The stream URL itself is deliberately NOT requested:
opening and dropping a stream before the suite runs would perturb exactly what the suite judges
(a server that wedges after a client aborts, a generator shared by all clients, a run counter).

The command's combined stdout/stderr is drained continuously by a thread (a full pipe would block
the server) into a bounded buffer, so a readiness failure can quote its last lines and the report
can show them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import httpx

from conformance.errors import LaunchError
from conformance.evidence import visible
from conformance.settings import DEFAULT_LAUNCH_GRACE as DEFAULT_GRACE
from conformance.settings import DEFAULT_READY_TIMEOUT

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_READY_TIMEOUT",
    "LaunchError",
    "LaunchedServer",
    "endpoint_of",
    "expand_command",
    "launched",
]

OUTPUT_LIMIT = 256 * 1024  # bytes of the command's output kept (the most recent ones)
QUOTED_LINES = 5  # lines of that output an error message quotes (the last ones)
QUOTED_CHARS = 200  # characters of each quoted line


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int


def endpoint_of(url: str) -> Endpoint:
    """Where the launched server must listen for ``url`` to answer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LaunchError(
            f"cannot launch for {url!r}: the URL must be http:// or https:// with a host"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise LaunchError(f"cannot launch for {url!r}: {exc}") from None
    return Endpoint(parts.hostname, port or (443 if parts.scheme == "https" else 80))


def expand_command(command: str, url: str) -> str:
    """Replace ``{host}``, ``{port}`` and ``{url}`` so one URL feeds both the command and the suite.

    Plain replacement, not ``str.format``: shell commands legitimately contain ``${VAR}``.
    """
    where = endpoint_of(url)
    return (
        command.replace("{host}", where.host)
        .replace("{port}", str(where.port))
        .replace("{url}", url)
    )


def _listening(where: Endpoint, timeout: float = 0.25) -> bool:
    try:
        with socket.create_connection((where.host, where.port), timeout):
            return True
    except OSError:
        return False


@dataclass
class _OutputBuffer:
    """The newest ``limit`` bytes of a stream, filled by a reader thread."""

    limit: int = OUTPUT_LIMIT
    data: bytearray = field(default_factory=bytearray)
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            self.data += chunk
            if len(self.data) > self.limit:
                del self.data[: len(self.data) - self.limit]

    def text(self) -> str:
        with self.lock:
            return bytes(self.data).decode("utf-8", "replace")


class LaunchedServer:
    """A running command in its own process group; use through :func:`launched`."""

    def __init__(
        self,
        command: str,
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        self._output = _OutputBuffer()
        self.killed = False  # True when SIGKILL was needed
        self.process = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own group: the shell AND its children get the signals
        )
        self._reader = threading.Thread(target=self._drain, name="launch-output", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def _drain(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._output.add(chunk)

    def output(self) -> str:
        """Everything kept of the command's stdout+stderr (the newest 256 KiB)."""
        return self._output.text()

    def tail(self, lines: int = QUOTED_LINES) -> str:
        """The last ``lines`` lines of output, for error messages: each at most ``QUOTED_CHARS``
        characters ("…" when cut) with control characters escaped as the text report does, so a
        flood or a terminal escape from the server is quoted, never replayed. Never raises."""
        kept = self.output().rstrip("\n").splitlines()[-lines:]
        return "\n".join(_quoted(line) for line in kept)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def _group_exists(self) -> bool:
        """Whether any live (non-zombie) process is left in the command's group.

        ``killpg(pgid, 0)`` alone also counts zombies, and orphans here may be reaped late by
        whatever is PID 1, so on Linux the group is read from /proc.
        """
        proc = Path("/proc")
        if not (proc / "self" / "stat").exists():
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if len(fields) > 2 and fields[2] == str(self.process.pid) and fields[0] != "Z":
                return True
        return False

    def stop(self, grace: float = DEFAULT_GRACE) -> int | None:
        """SIGTERM the group, SIGKILL what is left after ``grace`` seconds; idempotent.

        The whole group is waited for, not just the leader: a shell wrapper (``cmd & wait``,
        ``cd x && serve``) may exit on SIGTERM while the real server it started ignores it.
        Returns the leader's exit code.
        """
        deadline = time.monotonic() + grace
        self._signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(max(0.0, deadline - time.monotonic()))
        while self._group_exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.process.poll() is None or self._group_exists():
            self.killed = True
            self._signal_group(signal.SIGKILL)
            self.process.wait(5)
        self._reader.join(2)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def wait_ready(
        self, url: str, *, timeout: float = DEFAULT_READY_TIMEOUT, ready_url: str | None = None
    ) -> float:
        """Block until ``url``'s host:port accepts connections; return the seconds it took."""
        where = endpoint_of(url)
        started = time.monotonic()
        deadline = started + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise LaunchError(
                    f"the launched command exited with code {code} before {where.host}:{where.port}"
                    f" answered.\n  command: {self.command}\n{self._tail_block()}"
                )
            if _listening(where) and (ready_url is None or _http_answers(ready_url)):
                return time.monotonic() - started
            if time.monotonic() >= deadline:
                raise LaunchError(
                    f"{where.host}:{where.port} did not answer within {timeout:g} s of launching"
                    f" the command (raise --ready-timeout if it is just slow).\n"
                    f"  command: {self.command}\n{self._tail_block()}"
                )
            time.sleep(0.05)

    def _tail_block(self) -> str:
        tail = self.tail()
        if not tail:
            return "  (the command printed nothing)"
        return "  its last output:\n" + "\n".join("    " + line for line in tail.splitlines())


def _quoted(line: str) -> str:
    """One line of output as an error message quotes it: escaped, then cut to ``QUOTED_CHARS``
    (never inside an escape such as ``\\x1b``) with "…" when cut. Never raises."""
    shown = visible(line)
    if len(shown) <= QUOTED_CHARS:
        return shown
    cut = shown[:QUOTED_CHARS]
    escape = cut.rfind("\\x")
    if escape > QUOTED_CHARS - 4:  # a \xNN escape cut in two
        cut = cut[:escape]
    return cut + "…"


def _http_answers(url: str) -> bool:
    try:
        # Readiness only: an untrusted certificate still answers (the capture then reports it).
        with httpx.Client(timeout=1.0, verify=False) as client:
            client.get(url)
        return True
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so ``finally`` blocks run (CI cancels jobs with SIGTERM).

    Only possible from the main thread; elsewhere the default disposition stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def launched(
    command: str,
    url: str,
    *,
    ready_timeout: float = DEFAULT_READY_TIMEOUT,
    grace: float = DEFAULT_GRACE,
    ready_url: str | None = None,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[LaunchedServer]:
    """Run ``command`` (a shell command line) until the block ends; ready when the URL answers.

    ``{host}``, ``{port}`` and ``{url}`` in the command are replaced from ``url``. Refuses to start
    when something already listens there: the suite would judge that other server instead.
    """
    where = endpoint_of(url)
    if _listening(where):
        raise LaunchError(
            f"something already listens on {where.host}:{where.port}: the suite would test it, not"
            " the launched command. Stop it or pick another port."
        )
    server = LaunchedServer(expand_command(command, url), cwd=cwd, env=env)
    with _sigterm_raises():
        try:
            server.wait_ready(url, timeout=ready_timeout, ready_url=ready_url)
            yield server
        finally:
            server.stop(grace)
