"""A byte-exact asyncio HTTP/1.1 toolkit for test servers: a handler writes every byte itself.

Why not uvicorn/starlette: a framework normalises exactly the things a conformance suite must be
tested against (header case, framing, line endings, write boundaries, what happens on a client
abort).  Here a *handler* writes the status line, headers and body bytes itself, with the timing
it wants, through a small :class:`Exchange`.  Each server binds 127.0.0.1 on a kernel-chosen port
and is fully stopped (listening socket closed, connection tasks cancelled, transports aborted)
when its context exits, so a wedged or infinite handler never outlives its test.

What the handlers send (the ram-monitor stream and its defects) lives in
:mod:`testing.sse_response` and :mod:`testing.known_servers`; this module knows nothing of SSE
beyond the default path it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

STREAM_PATH = "/api/stream"


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
