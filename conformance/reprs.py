"""Short reprs for data that may hold a whole stream, and a run of a coroutine that renders nothing.

Why: a capture holds every byte a server sent (up to ``--max-bytes``) and every event's data; the
dataclass-generated ``__repr__`` renders all of it, which against a 200 MB body costs seconds and
gigabytes. Nothing in the suite needs that text, so the data classes that hold bodies or event
data use these short forms, and :func:`run_quietly` keeps the one implicit repr Python itself
takes (below) from ever seeing a report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CLIP = 60  # characters (or bytes) of a long value shown in a repr


def clipped(value: str | bytes, limit: int = CLIP) -> str:
    """``repr(value)`` when it is short, else the repr of its first ``limit`` items and its
    length: never proportional to the value. Never raises."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}...({len(value)} {'chars' if isinstance(value, str) else 'bytes'})"


def run_quietly(
    coro: Coroutine[Any, Any, T],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> T:
    """``asyncio.run(coro)``, with the main task returning None and the value handed back here.

    Why: on Python 3.11, ``asyncio.Runner.run`` restores SIGINT with ``signal.getsignal``, which
    tries ``signal.Handlers(handler)``; the handler is a ``functools.partial`` holding the main
    task, and the enum's "is not a valid" message formats its repr, which holds
    ``reprlib.repr(task.result())``: the full repr of the result, built then cut, twice per run.
    Raises what ``coro`` raises.
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())
    return box[0]
