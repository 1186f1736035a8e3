"""What a load run asks of its own process: descriptors, a quiet garbage collector, a fast loop.

Kept apart from the runner's logic: these touch the process (resource limits, gc, the event loop
policy), the runner only streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Iterator
from typing import Any

from conformance.errors import LoadUsageError


def _nr_open() -> int:
    """The kernel's ceiling for RLIMIT_NOFILE (Linux: /proc/sys/fs/nr_open; 1,048,576 usually)."""
    try:
        with open("/proc/sys/fs/nr_open", encoding="ascii") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return 1_048_576


def raise_hard_fd_limit(needed: int) -> tuple[int, int]:
    """Raise the *hard* RLIMIT_NOFILE to ``needed`` (at most the kernel's nr_open) when the
    process may (root, CAP_SYS_RESOURCE); the soft limit goes along. Returns the hard limit
    before and after (equal when not needed or not allowed). Never lowers it, never raises."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return needed, needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= needed:
        return hard, hard
    new = min(needed, _nr_open())
    if new <= hard:
        return hard, hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, new), new))
    except (ValueError, OSError):  # not allowed: an unprivileged process
        return hard, hard
    return hard, new


FD_MARGIN = 64  # descriptors kept for everything that is not a stream


def ensure_descriptors(streams: int) -> None:
    """Raise the descriptor limit for ``streams`` sockets, or refuse with the reason (raises
    LoadUsageError)."""
    needed = streams + FD_MARGIN
    got = raise_fd_limit(needed)
    if got < needed:
        raise LoadUsageError(
            f"{streams} streams need {needed} file descriptors but the hard limit is {got} "
            "(raise it with ulimit -n)"
        )


def prepare_process(streams: int, pin_cpu: int | None) -> None:
    """What a generator process needs before its first connection: descriptors for ``streams``
    and, when given, the CPU it is pinned to. Raises LoadUsageError when either is refused."""
    ensure_descriptors(streams)
    if pin_cpu is not None:
        try:
            os.sched_setaffinity(0, {pin_cpu})
        except (OSError, AttributeError) as exc:
            raise LoadUsageError(f"--pin-cpu {pin_cpu}: {exc}") from exc


def raise_fd_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``needed``, and the hard limit too when it is lower
    and the process may (:func:`raise_hard_fd_limit`); return the soft limit got."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return needed
    raise_hard_fd_limit(needed)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed if soft == resource.RLIM_INFINITY else soft
    new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Keep the cyclic garbage collector out of the measurement.

    With 10,000 streams alive, a full collection walks every stream's objects and stalls the
    loop for tens of milliseconds; events read after the stall look late. Measured against a
    raw fan-out server at 10,000 streams: p99 lateness 452 ms with default collection, 229 ms
    with the heap frozen and collections made rare. Settings are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (uvicorn[standard] brings it), else asyncio's.

    With one event per read, the load generator's cost per event is mostly the event loop's:
    the selector wake-up, ``recv`` and the callback into ``data_received``. uvloop does those
    in C (libuv). Never raises."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class ServerProbe:
    """CPU and RSS of the server process (and its children) through psutil."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._psutil = psutil
        self.process = psutil.Process(pid)

    def _procs(self) -> list[Any]:
        try:
            return [self.process, *self.process.children(recursive=True)]
        except self._psutil.Error:
            return [self.process]

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self._procs():
            with contextlib.suppress(self._psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def rss(self) -> int:
        total = 0
        for proc in self._procs():
            with contextlib.suppress(self._psutil.Error):
                total += int(proc.memory_info().rss)
        return total
