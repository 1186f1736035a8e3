"""Raw asyncio HTTP servers with byte-exact control, for proving the suite right and wrong.

Why not uvicorn/starlette: a framework normalises exactly the things a conformance suite must be
tested against (header case, framing, line endings, write boundaries, what happens on a client
abort).  Here a *handler* writes the status line, headers and body bytes itself, with the timing
it wants, through a small :class:`Exchange`.  Each server binds 127.0.0.1 on a kernel-chosen port
and is fully stopped (listening socket closed, connection tasks cancelled, transports aborted)
when its context exits, so a wedged or infinite handler never outlives its test.

On top of the toolkit, :class:`SseResponse` describes the ram-monitor stream (22 JSON-encoded
messages at a tiny interval) with one knob per defect, so every known-bad server is "the good one
with exactly one thing changed" (``dataclasses.replace``), and the special cases that need state
shared across connections (a generator shared by all clients, a server that wedges after a client
aborts) are small handlers of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

STREAM_PATH = "/api/stream"
STARTING = "Starting system RAM monitoring..."
SENTINEL = "RAM monitoring completed"
SAMPLES = 20


class ClientGone(Exception):
    """The client closed or reset the connection; handlers may catch it to react to an abort."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass
class ServerState:
    """What a server saw, shared by all its connections (tests assert on it)."""

    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    aborted_mid_stream: int = 0


class Exchange:
    """One request on one connection; the handler answers through it.

    A watcher task reads the socket after the request so that a client that goes away is noticed
    even while the handler is only sleeping (``gone``); every ``send`` raises :class:`ClientGone`
    once that happened instead of writing into a dead transport.
    """

    def __init__(
        self,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        state: ServerState,
    ) -> None:
        self.request = request
        self.state = state
        self._reader = reader
        self._writer = writer
        self.gone = asyncio.Event()
        self.bytes_sent = 0
        self._chunked = False
        self._gzip: zlib._Compress | None = None

    async def _watch(self) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while await self._reader.read(4096):
                pass
        self.gone.set()

    async def send(self, data: bytes) -> None:
        """Write raw bytes exactly as given (no framing) and wait until the kernel took them."""
        if self.gone.is_set() or self._writer.is_closing():
            raise ClientGone
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            self.gone.set()
            raise ClientGone from exc
        self.bytes_sent += len(data)

    async def send_head(
        self,
        status: int,
        headers: Sequence[tuple[str, str]],
        *,
        reason: str | None = None,
        version: str = "HTTP/1.1",
    ) -> None:
        """Status line and headers, byte for byte as given; framing is inferred from them."""
        reason = REASONS.get(status, "Unknown") if reason is None else reason
        lines = [f"{version} {status} {reason}".encode("latin-1")]
        lines += [f"{key}: {value}".encode("latin-1") for key, value in headers]
        self._chunked = any(
            key.lower() == "transfer-encoding" and "chunked" in value.lower()
            for key, value in headers
        )
        if any(
            key.lower() == "content-encoding" and value.lower() == "gzip" for key, value in headers
        ):
            self._gzip = zlib.compressobj(wbits=31)
        await self.send(b"\r\n".join(lines) + b"\r\n\r\n")

    async def send_body(self, data: bytes) -> None:
        """One body write: gzip-compressed and sync-flushed if the head said so, one chunk if chunked."""
        if self._gzip is not None:
            data = self._gzip.compress(data) + self._gzip.flush(zlib.Z_SYNC_FLUSH)
        if self._chunked:
            if not data:
                return  # an empty chunk would end the body
            data = b"%x\r\n%s\r\n" % (len(data), data)
        await self.send(data)

    async def end_body(self) -> None:
        """Finish the compressor and the chunked body (the connection is closed after the handler)."""
        tail = b""
        if self._gzip is not None:
            tail = self._gzip.flush(zlib.Z_FINISH)
            self._gzip = None
        if self._chunked:
            if tail:
                tail = b"%x\r\n%s\r\n" % (len(tail), tail)
            tail += b"0\r\n\r\n"
        if tail:
            await self.send(tail)

    async def pause(self, seconds: float) -> None:
        """Sleep, but raise ClientGone as soon as the client leaves (so aborts are noticed promptly)."""
        if seconds <= 0:
            if self.gone.is_set():
                raise ClientGone
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gone.wait(), seconds)
        if self.gone.is_set():
            raise ClientGone

    async def wait_gone(self) -> None:
        """Hold the connection open, silent, until the client leaves or the server stops."""
        await self.gone.wait()
        raise ClientGone

    def abort(self) -> None:
        """Reset the connection (RST) instead of a clean close."""
        self._writer.transport.abort()
        self.gone.set()


Handler = Callable[[Exchange], Awaitable[None]]


REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    404: "Not Found",
    500: "Internal Server Error",
}


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = tuple(
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
    )
    request = Request(parts[0], parts[1], parts[2], headers)
    length = request.header("content-length")
    if length and length.isdigit() and int(length) > 0:
        try:
            body = await reader.readexactly(int(length))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return None
        request = dataclasses.replace(request, body=body)
    return request


class _Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.state = ServerState()
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.writers.add(writer)
        self.state.connections += 1
        watcher: asyncio.Task[None] | None = None
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.state.requests.append(request)
            exchange = Exchange(request, reader, writer, self.state)
            watcher = asyncio.create_task(exchange._watch())
            with contextlib.suppress(ClientGone):
                await self.handler(exchange)
        except asyncio.CancelledError:
            # Stopped by ``stop()``: end normally, because Python 3.11's start_server callback
            # logs a spurious traceback for a connection task that ends cancelled.
            pass
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            self.writers.discard(writer)
            writer.transport.abort() if writer.is_closing() else writer.close()
            self.tasks.discard(task)

    async def stop(self, server: asyncio.Server) -> None:
        server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await server.wait_closed()


@dataclass(frozen=True)
class RunningSse:
    """A live server: ``url`` is the stream URL, ``base_url`` its origin."""

    base_url: str
    state: ServerState
    path: str = STREAM_PATH

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


@contextlib.asynccontextmanager
async def sse_server(handler: Handler, *, path: str = STREAM_PATH) -> AsyncIterator[RunningSse]:
    """Serve ``handler`` in the running event loop (each connection: one request, then closed)."""
    impl = _Server(handler)
    server = await asyncio.start_server(impl.serve_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield RunningSse(f"http://127.0.0.1:{port}", impl.state, path)
    finally:
        await impl.stop(server)


@contextlib.contextmanager
def threaded_sse_server(handler: Handler, *, path: str = STREAM_PATH) -> Iterator[RunningSse]:
    """Serve ``handler`` from its own event loop in a thread.

    The suite then never shares a loop with the server it judges, like a real deployment: a
    server that blocks its loop cannot stall the client's clocks, and sync callers work too.
    """
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        impl = _Server(handler)
        server = await asyncio.start_server(impl.serve_connection, "127.0.0.1", 0)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["state"] = impl.state
        holder["stop"] = lambda: loop.call_soon_threadsafe(stop.set)
        ready.set()
        try:
            await stop.wait()
        finally:
            await impl.stop(server)

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the caller below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="sse-test-server", daemon=True)
    thread.start()
    if not ready.wait(10) or "error" in holder:
        raise RuntimeError(f"test server did not start: {holder.get('error')!r}")
    state = holder["state"]
    assert isinstance(state, ServerState)
    try:
        yield RunningSse(f"http://127.0.0.1:{holder['port']}", state, path)
    finally:
        stop_fn = holder["stop"]
        assert callable(stop_fn)
        stop_fn()
        thread.join(10)
        if thread.is_alive():
            raise RuntimeError("test server thread did not stop within 10 s")


def routes(table: dict[str, Handler], fallback: Handler | None = None) -> Handler:
    """Dispatch on the request path (query string ignored); unknown paths get a 404."""

    async def not_found(ex: Exchange) -> None:
        await ex.send_head(404, [("Content-Type", "text/plain"), ("Content-Length", "9")])
        await ex.send(b"not found")

    async def handler(ex: Exchange) -> None:
        path = ex.request.target.split("?", 1)[0]
        await table.get(path, fallback or not_found)(ex)

    return handler


# --------------------------------------------------------------------------- the ram-monitor stream


def ram_sample(index: int, when: float | None = None) -> str:
    """One well-formed sample: 16 GB total, usage creeping up, U = T*P/100 rounded like the reference."""
    total = 16.0
    percent = round(30.0 + 0.7 * index, 1)
    used = round(total * percent / 100, 2)
    stamp = time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(time.time() if when is None else when)
    )
    return f"{stamp} - RAM usage: {percent}% ({used:.2f}GB / {total:.2f}GB)"


def ram_messages(samples: int = SAMPLES) -> list[str]:
    """The 22 texts of one ram-monitor run (before JSON encoding)."""
    return [STARTING, *(ram_sample(i) for i in range(samples)), SENTINEL]


def encode_event(
    data: str,
    *,
    eol: bytes = b"\n",
    event: str | None = None,
    event_id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
    terminate: bool = True,
    space: bytes = b" ",
) -> bytes:
    """One event block; ``terminate=False`` leaves out the blank line that dispatches it."""
    lines: list[bytes] = []
    if comment is not None:
        lines.append(b":" + comment.encode())
    if retry is not None:
        lines.append(b"retry: %d" % retry)
    if event_id is not None:
        lines.append(b"id: " + event_id.encode())
    if event is not None:
        lines.append(b"event: " + event.encode())
    lines += [b"data:" + space + line.encode() for line in data.split("\n")]
    block = eol.join(lines) + eol
    return block + eol if terminate else block


def json_text(index: int, text: str) -> str:
    """The reference's encoding: every message is a JSON string."""
    return json.dumps(text)


def plain_text(index: int, text: str) -> str:
    """The text as is: not JSON (what a server that forgot json.dumps sends)."""
    return text


Framing = Literal["chunked", "close", "length"]
Splitter = Callable[[bytes], list[bytes]]

DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
)


def split_every(size: int) -> Splitter:
    """Writes of ``size`` bytes (1: byte at a time)."""
    return lambda block: [block[i : i + size] for i in range(0, len(block), size)]


def split_after_cr(block: bytes) -> list[bytes]:
    """Cut right after every CR, so each CRLF straddles two writes (and two TCP segments)."""
    pieces = block.split(b"\r")
    return [p + b"\r" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


@dataclass(frozen=True)
class SseResponse:
    """The known-good ram-monitor stream; every field is one knob a defect can turn.

    Defaults mirror the reference: 200, ``text/event-stream``, ``no-cache``, chunked, LF, one
    chunk per event, data JSON-encoded, 22 messages, closed right after the sentinel.
    """

    status: int = 200
    reason: str | None = None
    version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = DEFAULT_HEADERS
    framing: Framing = "chunked"
    gzip: bool = False
    samples: int = SAMPLES
    transform: Callable[[list[str]], list[str]] | None = None  # edits each connection's texts
    inject: tuple[tuple[int, bytes], ...] = ()  # raw bytes written just before message i
    encode: Callable[[int, str], str] = json_text  # message index, text -> the data field
    eol: bytes = b"\n"
    bom: bytes = b""
    event_type: str | None = None
    ids: bool = False
    retry: int | None = None
    comments: bool = False  # a ":keep-alive" comment line before every event
    separator: bytes | None = None  # what ends each event instead of a blank line (e.g. b"\n")
    terminate_last: bool = True
    interval: float = 0.01
    pause_before: Callable[[int], float] | None = None  # message index -> pause (else interval)
    head_delay: float = 0.0  # before the status line
    first_delay: float = 0.0  # after the head, before the first event
    keepalive_every: float = 0.0  # with first_delay: send ": ping" comments this often meanwhile
    splitter: Splitter | None = None
    buffered: bool = False  # produce at the normal pace, but write everything at the end
    after_sentinel: Literal["close", "hang"] = "close"
    end_body: bool = True  # False: close without the last chunk (a truncated chunked body)
    reset_after: int | None = None  # reset the connection (RST) after writing this many messages
    space: bytes = b" "  # after "data:" (b"": "data:x", equally valid)
    infinite: bool = False  # samples forever, no sentinel
    body_override: bytes | None = None  # a fixed body instead of the stream (error pages)

    def texts(self) -> Iterator[str]:
        if self.infinite:
            yield STARTING
            index = 0
            while True:
                yield ram_sample(index % 60)
                index += 1
        texts = ram_messages(self.samples)
        yield from self.transform(texts) if self.transform else texts

    def blocks(self) -> Iterator[bytes]:
        """Each message's bytes, in order (lazily: the infinite stream never ends)."""
        previous: bytes | None = None
        for index, text in enumerate(self.texts()):
            data = self.encode(index, text)
            block = encode_event(
                data,
                eol=self.eol,
                event=self.event_type,
                event_id=str(index + 1) if self.ids else None,
                retry=self.retry if index == 0 else None,
                comment="keep-alive" if self.comments else None,
                terminate=self.separator is None,
                space=self.space,
            )
            if self.separator is not None:
                block += self.separator
            for at, raw in self.inject:
                if at == index:
                    block = raw + block
            if index == 0 and self.bom:
                block = self.bom + block
            if previous is not None:
                yield previous
            previous = block
        if previous is not None:
            if self.separator is not None and self.terminate_last:
                previous += self.eol  # the one blank line that finally dispatches the merge
            if not self.terminate_last and previous.endswith(self.eol + self.eol):
                previous = previous[: -len(self.eol)]
            yield previous

    def head(self, body_length: int | None = None) -> list[tuple[str, str]]:
        headers = list(self.headers)
        if self.gzip:
            headers.append(("Content-Encoding", "gzip"))
        if self.status in (204, 304):
            pass  # no body, so no framing headers (RFC 9110 §8.6)
        elif self.framing == "chunked":
            headers.append(("Transfer-Encoding", "chunked"))
        elif self.framing == "length":
            assert body_length is not None
            headers.append(("Content-Length", str(body_length)))
        return headers

    async def __call__(self, ex: Exchange) -> None:
        await serve_stream(self, ex, self.blocks())


async def serve_stream(spec: SseResponse, ex: Exchange, blocks: Iterator[bytes]) -> None:
    """Write ``blocks`` as ``spec`` says (framing, timing, splitting, what happens after the end)."""
    await ex.pause(spec.head_delay)
    if spec.body_override is not None:
        body = spec.body_override
        await ex.send_head(
            spec.status,
            spec.head(len(body)),
            reason=spec.reason,
            version=spec.version,
        )
        await ex.send_body(body)
        await ex.end_body()
        return
    if spec.framing == "length":
        # A server that collects the whole body to learn its length: the head goes out last.
        collected = bytearray()
        for index, block in enumerate(blocks):
            if index:
                await ex.pause(spec.interval)
            collected += block
        body = gzip_whole(bytes(collected)) if spec.gzip else bytes(collected)
        await ex.send_head(
            spec.status, spec.head(len(body)), reason=spec.reason, version=spec.version
        )
        await ex.send(body)
        return
    await ex.send_head(spec.status, spec.head(), reason=spec.reason, version=spec.version)
    waited = 0.0
    while waited < spec.first_delay:
        step = min(spec.keepalive_every or spec.first_delay, spec.first_delay - waited)
        await ex.pause(step)
        waited += step
        if spec.keepalive_every and waited < spec.first_delay:
            await ex.send_body(b": ping" + spec.eol + spec.eol)
    pending = bytearray()
    for index, block in enumerate(blocks):
        if index:
            await ex.pause(spec.pause_before(index) if spec.pause_before else spec.interval)
        if spec.buffered:
            pending += block
            continue
        for piece in spec.splitter(block) if spec.splitter else [block]:
            await ex.send_body(piece)
        if spec.reset_after is not None and index + 1 >= spec.reset_after:
            ex.abort()
            return
    if pending:
        await ex.send_body(bytes(pending))
    if spec.after_sentinel == "hang":
        await ex.wait_gone()
    if spec.end_body:
        await ex.end_body()


def gzip_whole(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH)


# --------------------------------------------------------------------------- special servers


async def never_answer(ex: Exchange) -> None:
    """Accept, read the request, say nothing, until the client gives up."""
    await ex.wait_gone()


def shared_generator(spec: SseResponse = SseResponse()) -> Handler:
    """One message source for the whole server: concurrent clients split the messages between them.

    The classic bug of a generator (or queue) created once at module level instead of per request.
    """
    lock = asyncio.Lock()
    source: dict[str, Iterator[bytes]] = {}

    async def handler(ex: Exchange) -> None:
        await ex.send_head(spec.status, spec.head(), version=spec.version)
        # Created lazily, once: it lives as long as the server, shared by every connection.
        blocks = source.setdefault("it", spec.blocks())
        first = True
        while True:
            if not first:
                await ex.pause(spec.interval)
            first = False
            async with lock:
                block = next(blocks, None)
            if block is None:
                break
            await ex.send_body(block)
        await ex.end_body()

    return handler


def wedge_after_abort(spec: SseResponse = SseResponse()) -> Handler:
    """Serve correctly until one client aborts mid-stream; from then on accept but never answer.

    Models a server whose per-client cleanup deadlocks (a lock held by the dead generator, a
    worker pool exhausted by streams that are never cancelled).
    """
    state: dict[str, bool] = {"wedged": False}

    async def handler(ex: Exchange) -> None:
        if state["wedged"]:
            await ex.wait_gone()
        try:
            await spec(ex)
        except ClientGone:
            state["wedged"] = True
            ex.state.aborted_mid_stream += 1
            raise

    return handler


def redirect_to(location: str, status: int = 302) -> Handler:
    async def handler(ex: Exchange) -> None:
        await ex.send_head(
            status, [("Location", location), ("Content-Length", "0"), ("Connection", "close")]
        )

    return handler


def error_page(status: int, body: bytes = b"", content_type: str = "text/plain") -> SseResponse:
    headers = (("Content-Type", content_type),) if body else ()
    return SseResponse(status=status, headers=headers, framing="length", body_override=body)


# --------------------------------------------------------------------------- serve one by hand


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


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m testing.servers",
        description="Serve one known-good or known-bad SSE server on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("name", nargs="?", help="which server (--list shows them)")
    parser.add_argument("--list", action="store_true", help="list the servers and exit")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between messages")
    args = parser.parse_args(argv)
    table = presets(args.interval)
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


__all__ = [
    "SENTINEL",
    "STARTING",
    "STREAM_PATH",
    "ClientGone",
    "Exchange",
    "Handler",
    "Request",
    "RunningSse",
    "ServerState",
    "SseResponse",
    "encode_event",
    "error_page",
    "json_text",
    "never_answer",
    "plain_text",
    "presets",
    "ram_messages",
    "ram_sample",
    "redirect_to",
    "routes",
    "shared_generator",
    "split_after_cr",
    "split_every",
    "sse_server",
    "threaded_sse_server",
    "wedge_after_abort",
]


if __name__ == "__main__":
    sys.exit(main())
