"""What a port answers a TLS ClientHello with, read on one more connection (issue 16, point 7).

OpenSSL reports WRONG_VERSION_NUMBER for a plain-HTTP answer ("HTTP/1.1 400 Bad Request") and for
any other bytes that are not a TLS record (an SSH banner, noise) alike, and its error does not
keep the bytes. So when a handshake fails that way, :func:`answer_to_hello` opens one TCP
connection, sends a real ClientHello (this Python's OpenSSL writes it into a memory BIO) and reads
at most :data:`MAX_ANSWER` bytes back, within its own time limit: the cause can then say what
answered instead of guessing. It never raises and never waits past its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass

PROBE_TIMEOUT = 2.0  # seconds for the whole probe: connect, send, read
MAX_ANSWER = 1024  # bytes read at most
QUIET = 0.2  # once bytes came, this long without more ends the read (the peer may keep it open)
DECIDING_PREFIXES = (b"HTTP/", b"SSH-")  # the first bytes already say what answered


@dataclass(frozen=True)
class HelloAnswer:
    """What the peer sent back to a ClientHello: ``data`` (at most :data:`MAX_ANSWER` bytes),
    and whether it then closed the connection (``closed``) before the read ended."""

    data: bytes
    closed: bool

    @property
    def truncated(self) -> bool:
        """The peer sent :data:`MAX_ANSWER` bytes or more: only that many were read."""
        return len(self.data) >= MAX_ANSWER

    @property
    def looks_like_tls(self) -> bool:
        """The bytes start like a TLS record (content type 20-24, major version 3): the peer does
        speak TLS, so OpenSSL's own reason is the better cause."""
        return len(self.data) >= 2 and 0x14 <= self.data[0] <= 0x18 and self.data[1] == 0x03


def client_hello(server_name: str | None) -> bytes:
    """A ClientHello as this Python's OpenSSL writes it (ALPN h2 and http/1.1, as the capture
    offers; SNI unless ``server_name`` is None or an IP address). Raises ssl.SSLError only if
    OpenSSL cannot build one."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name or None)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


async def answer_to_hello(
    host: str, port: int, budget: float = PROBE_TIMEOUT
) -> HelloAnswer | None:
    """Send a ClientHello to ``host:port`` on a new connection and read what comes back, all
    within ``budget`` seconds: None when no connection opened, the time ran out before a byte
    came, or anything else went wrong (the probe cannot tell). Never raises."""
    if budget <= 0:
        return None
    writer: asyncio.StreamWriter | None = None
    deadline = asyncio.get_running_loop().time() + budget
    try:
        async with asyncio.timeout_at(deadline):  # the net under the reads' own deadline
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(client_hello(host))
            await writer.drain()
            return await _read_answer(reader, deadline - min(0.05, budget / 10))
    except Exception:  # refused, reset, timed out before any byte, no ClientHello: cannot tell
        return None
    finally:
        if writer is not None:
            writer.close()  # no wait_closed: the probe's time is spent; the loop finishes it


async def _read_answer(reader: asyncio.StreamReader, deadline: float) -> HelloAnswer | None:
    """Read up to :data:`MAX_ANSWER` bytes: until the peer closes, the cap, a deciding prefix,
    :data:`QUIET` seconds without more, or ``deadline`` (the caller's budget bounds it too)."""
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < MAX_ANSWER and not data.startswith(DECIDING_PREFIXES):
        wait = deadline - loop.time()
        if data:
            wait = min(wait, QUIET)
        if wait <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(MAX_ANSWER - len(data)), wait)
        except TimeoutError:
            break
        except OSError:  # a reset after some bytes: what came is the answer
            return HelloAnswer(data, closed=True) if data else None
        if not chunk:
            return HelloAnswer(data, closed=True)
        data += chunk
    return HelloAnswer(data, closed=False) if data else None


# Probes in flight, by event loop and peer: a run's clients fail together (the CLI starts several
# at once), and one probe answers them all instead of one more connection each.
_IN_FLIGHT: dict[tuple[int, str, int], asyncio.Task[HelloAnswer | None]] = {}


async def shared_answer_to_hello(
    host: str, port: int, budget: float = PROBE_TIMEOUT
) -> HelloAnswer | None:
    """:func:`answer_to_hello`, shared with every caller on this event loop that asks about the
    same ``host:port`` while a probe is running; each caller waits at most its own ``budget`` seconds
    (None when that runs out). Never raises."""
    if budget <= 0:
        return None
    loop = asyncio.get_running_loop()
    key = (id(loop), host, port)
    task = _IN_FLIGHT.get(key)
    if task is None or task.get_loop() is not loop or task.done():
        task = loop.create_task(answer_to_hello(host, port, budget))
        _IN_FLIGHT[key] = task

        def forget(done: asyncio.Task[HelloAnswer | None]) -> None:
            if _IN_FLIGHT.get(key) is done:
                del _IN_FLIGHT[key]

        task.add_done_callback(forget)
    try:
        return await asyncio.wait_for(asyncio.shield(task), budget)
    except Exception:  # this caller's time ran out (the probe goes on for the others)
        return None
