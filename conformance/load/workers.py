"""``--processes N``: the run spread over N worker processes, their steps merged into one report.

One process holds at most its descriptor limit in streams (20,000 here, and raising the hard
limit needs CAP_SYS_RESOURCE), and one core. Each worker (multiprocessing, spawn) runs the
ordinary runner on its share (:func:`conformance.load.merge.share_config`) and, after each step,
sends the step as JSON over its pipe and waits for the parent's word: the parent merges the
same step of every worker (:func:`conformance.load.merge.merge_steps`), judges it, and tells
all of them to go on or stop, so the workers step together and stop together.

Every wait is bounded (a step's budget plus a margin); a worker whose parent dies ends at once
(a watchdog thread on the parent's sentinel); a parent interrupted (SIGINT) or failing ends its
workers (terminate, then kill).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from typing import Any

from conformance.errors import LoadUsageError
from conformance.load.merge import merge_steps, share_config, step_from_wire, step_to_wire
from conformance.load.process import prepare_process
from conformance.load.results import LoadReport, StepResult
from conformance.load.runner import LoadConfig, run_load_sync

START_MARGIN = 60.0  # seconds: a worker's start (imports) and the slack between siblings
STOP_GRACE = 5.0  # seconds a worker is given to end before it is killed
MAX_PROCESSES = 64


class WorkerError(Exception):
    """A worker ended, or stopped answering, in the middle of the run."""


def step_budget(config: LoadConfig) -> float:
    """The longest one step of ``config`` can take (the runner's own bounds), plus a margin."""
    if config.arrival_rates:
        return config.hold + config.timeout + START_MARGIN
    return max(config.steps) / config.ramp + config.timeout + config.hold + START_MARGIN


def _watch_parent() -> None:
    """End this worker at once when its parent is gone (its streams die with it)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


# The CLI's config builder, handed in (pickled by reference under spawn): the worker rebuilds
# its LoadConfig from the arguments (an SSLContext does not pickle), and importing it here would
# make a circle with conformance.load.cli.
ConfigBuilder = Callable[[argparse.Namespace], LoadConfig]


def worker_main(
    args: argparse.Namespace,
    index: int,
    count: int,
    conn: multiprocessing.connection.Connection,
    build: ConfigBuilder,
) -> None:
    """A worker: its share of the run, one JSON message per step; ``{"error": ...}`` for a
    setting it cannot use. Never raises (an interrupt ends it quietly)."""
    _watch_parent()
    try:
        config = share_config(build(args), index, count)
        streams = config.max_open if config.arrival_rates else max(config.steps)
        prepare_process(streams, args.pin_cpu)
    except LoadUsageError as exc:
        conn.send_bytes(json.dumps({"error": str(exc)}).encode())
        return
    budget = step_budget(config)

    async def gate(step: StepResult) -> bool:
        conn.send_bytes(json.dumps({"step": step_to_wire(step)}).encode())
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, conn.poll, budget)
        if not ready:
            return False
        try:
            return conn.recv_bytes() == b"next"
        except (EOFError, OSError):
            return False

    try:
        run_load_sync(config, gate=gate)
        conn.send_bytes(b'{"done": true}')
    except (KeyboardInterrupt, BrokenPipeError, OSError):
        pass


class Workers:
    """The parent's side: start, talk to and always stop the worker processes."""

    def __init__(
        self,
        args: argparse.Namespace,
        count: int,
        build: ConfigBuilder,
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        child_args = argparse.Namespace(**vars(args))
        for name in ("json", "plot", "processes"):
            setattr(child_args, name, None)
        self.procs: list[Any] = []
        self.conns: list[multiprocessing.connection.Connection] = []
        for index in range(count):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=worker_main,
                args=(child_args, index, count, theirs, build),
                name=f"sse-load-worker-{index}",
                daemon=True,
            )
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.conns.append(mine)

    def collect(self, timeout: float) -> list[dict[str, Any]]:
        """One message from every worker; raises LoadUsageError when one cannot use its
        settings, WorkerError when one ends or says nothing within ``timeout`` seconds."""
        messages: list[dict[str, Any]] = []
        for index, conn in enumerate(self.conns):
            try:
                if not conn.poll(timeout):
                    raise WorkerError(f"worker {index} sent nothing within {timeout:.0f} s")
                message: dict[str, Any] = json.loads(conn.recv_bytes())
            except (EOFError, OSError, ValueError) as exc:
                raise WorkerError(f"worker {index} ended without its step ({exc!r})") from None
            if "error" in message:
                raise LoadUsageError(str(message["error"]))
            messages.append(message)
        return messages

    def tell(self, word: bytes) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send_bytes(word)

    def stop(self) -> None:
        """Every worker ended (asked, then terminated, then killed); bounded by STOP_GRACE."""
        for proc in self.procs:
            proc.join(STOP_GRACE)
            if proc.is_alive():
                proc.terminate()
                proc.join(STOP_GRACE)
            if proc.is_alive():
                proc.kill()
                proc.join(STOP_GRACE)
        for conn in self.conns:
            conn.close()


def run_processes(
    args: argparse.Namespace,
    config: LoadConfig,
    count: int,
    *,
    build: ConfigBuilder,
    on_step: Callable[[StepResult], None] | None = None,
) -> LoadReport:
    """The run over ``count`` worker processes, merged step by step. Raises LoadUsageError when
    a worker cannot use its settings, WorkerError when one ends or stops answering;
    KeyboardInterrupt propagates after the workers are stopped."""
    report = config.new_report(processes=count)
    plan = len(config.arrival_rates) if config.arrival_rates else len(config.steps)
    budget = step_budget(share_config(config, 0, count))
    workers = Workers(args, count, build)
    try:
        for number in range(plan):
            messages = workers.collect(budget)
            steps = [step_from_wire(m["step"]) for m in messages]
            merged = merge_steps(steps, p99_limit=config.p99_limit, ttft_limit=config.ttft_limit)
            report.steps.append(merged)
            if on_step is not None:
                on_step(merged)
            go_on = number + 1 < plan and (merged.meets or config.keep_going)
            workers.tell(b"next" if go_on else b"stop")
            if not go_on:
                break
        if report.steps:
            workers.collect(STOP_GRACE + config.timeout)  # each worker's "done"
    finally:
        workers.tell(b"stop")
        workers.stop()
    return report


def check_processes(value: int) -> int:
    """``--processes``: 1..MAX_PROCESSES; raises LoadUsageError otherwise."""
    if not 1 <= value <= MAX_PROCESSES:
        raise LoadUsageError(f"--processes must be in 1..{MAX_PROCESSES}: {value}")
    return value
