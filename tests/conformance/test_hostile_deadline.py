"""A run ends within its deadline (plus the close grace) whatever the server does (issue 16, 5).

Each hostile server is bounded: it holds a connection only until the client leaves or the test
server stops (at the end of its ``with``); all on loopback. The wall time of the whole CLI run is
measured; before the fix the stream.disconnect follow-up started only after the aborting clients
ended and took a whole deadline (or timeout) again: twice each limit.
"""

from __future__ import annotations

import contextlib
import io
import time

import pytest

from conformance.cli import main
from testing.rawhttp import Exchange, Handler, threaded_sse_server

# Each case waits out a 10 s deadline: `nox -s slow` (CI runs it).
pytestmark = pytest.mark.slow

SSE = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
CHUNKED = [*SSE, ("Transfer-Encoding", "chunked")]
DEADLINE = 3.0
GRACE = 0.5
SLACK = 1.5  # judging, teardown, a busy machine: still far below a second deadline


async def comments_forever(ex: Exchange) -> None:
    """A 200 stream that never sends an event: a comment every 0.2 s, so no idle timeout."""
    await ex.send_head(200, CHUNKED)
    while True:
        await ex.send_body(b": still here\n\n")
        await ex.pause(0.2)


async def one_late_event_then_comments(ex: Exchange) -> None:
    """One event after 1 s (the aborting clients hang up after it), then comments forever."""
    await ex.send_head(200, CHUNKED)
    await ex.pause(1.0)
    await ex.send_body(b"data: 1\n\n")
    while True:
        await ex.pause(0.2)
        await ex.send_body(b": still here\n\n")


async def no_head(ex: Exchange) -> None:
    """Reads the request and never answers."""
    await ex.wait_gone()


def timed_cli(*argv: str) -> tuple[float, int, str]:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return time.monotonic() - started, code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("handler", [comments_forever, one_late_event_then_comments])
def test_a_stream_that_never_ends_ends_the_run_at_its_deadline(handler: object) -> None:
    with threaded_sse_server(handler) as server:  # type: ignore[arg-type]
        wall, code, out = timed_cli(
            server.url,
            *("--deadline", str(DEADLINE), "--close-grace", str(GRACE)),
            *("--idle-timeout", "10", "--first-byte-timeout", "10"),
        )
    assert code in (0, 1), out
    assert "stream.disconnect" in out
    assert wall < DEADLINE + GRACE + SLACK, f"{wall:.1f} s\n{out}"


def test_a_server_that_never_answers_ends_the_run_at_the_first_byte_timeout() -> None:
    with threaded_sse_server(no_head) as server:
        wall, code, out = timed_cli(
            server.url,
            *("--deadline", "20", "--close-grace", str(GRACE), "--first-byte-timeout", "2"),
        )
    assert code == 1, out
    assert "stream.disconnect" in out
    assert wall < 2 + GRACE + SLACK, f"{wall:.1f} s\n{out}"


def ends_then_hostile_reconnect(answer_head: bool) -> Handler:
    """Three events with ids a second apart, then the end; the reconnect after the end (Last-Event-ID: 3) gets a
    200 head and never a byte (``answer_head``), or no answer at all."""

    async def handler(ex: Exchange) -> None:
        if ex.request.header("last-event-id") == "3":
            if answer_head:
                await ex.send_head(200, CHUNKED)
            await ex.wait_gone()
        await ex.send_head(200, CHUNKED)
        for n in (1, 2, 3):
            await ex.pause(1.0)
            await ex.send_body(b"id: %d\ndata: %d\n\n" % (n, n))
        await ex.end_body()

    return handler


@pytest.mark.parametrize("answer_head", [True, False], ids=["head-then-silence", "no-answer"])
def test_the_reconnect_after_the_end_gets_only_what_is_left_of_the_deadline(
    answer_head: bool,
) -> None:
    deadline = 6.0
    with threaded_sse_server(ends_then_hostile_reconnect(answer_head)) as server:
        wall, code, out = timed_cli(
            server.url,
            *("--deadline", str(deadline), "--close-grace", str(GRACE)),
            *("--first-byte-timeout", "10", "--idle-timeout", "10"),
        )
        asked = [r.header("last-event-id") for r in server.state.requests]
    assert code in (0, 1), out
    assert "3" in asked, asked  # the after-end reconnect happened
    after_end = next(line for line in out.splitlines() if line.startswith("reconnect.after-end"))
    print(f"wall {wall:.2f} s\n{after_end}")
    assert wall < deadline + GRACE + SLACK, f"{wall:.1f} s\n{out}"
