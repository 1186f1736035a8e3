"""TLS on loopback for the tests: a throwaway CA (trustme) and a real HTTP/2 server (hypercorn).

Browsers speak HTTP/2 over TLS only, so an https endpoint with a certificate the suite trusts
(``--cacert``) is what an HTTP/2 test needs. :func:`hypercorn_thread` serves any ASGI app over TLS
with ALPN offering h2 and http/1.1, or http/1.1 only (the server that ``http.version`` warns
about). Nothing here touches the system's trust store.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import trustme

from reference.app import create_app
from reference.settings import Settings
from testing.support import free_port, wait_for_port


@dataclass(frozen=True)
class Certs:
    """PEM files of one throwaway CA and the loopback server certificate it issued."""

    ca: Path  # what --cacert gets
    cert: Path  # the server's certificate chain
    key: Path  # its private key


def make_certs(folder: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Certs:
    """A new CA and a certificate for ``hosts`` (IP addresses become IP SANs), written to
    ``folder``. Raises OSError when the folder is not writable."""
    ca = trustme.CA()
    server = ca.issue_cert(*hosts)
    certs = Certs(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.cert_pem.write_to_path(str(certs.ca))
    server.cert_chain_pems[0].write_to_path(str(certs.cert))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(certs.cert), append=True)
    server.private_key_pem.write_to_path(str(certs.key))
    return certs


@dataclass(frozen=True)
class TlsServer:
    port: int
    base_url: str  # https://127.0.0.1:PORT


@contextlib.contextmanager
def hypercorn_thread(app: Any, certs: Certs, *, http2: bool = True) -> Iterator[TlsServer]:
    """Serve the ASGI ``app`` over TLS from a thread of this process until the block ends.

    ``http2=False`` restricts ALPN to http/1.1: an https server that offers only HTTP/1.1.
    Raises RuntimeError when the server does not start or stop within 10 s.
    """
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile = str(certs.cert)
    config.keyfile = str(certs.key)
    config.alpn_protocols = ["h2", "http/1.1"] if http2 else ["http/1.1"]
    config.graceful_timeout = 1.0
    config.loglevel = "WARNING"
    config.accesslog = None
    holder: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        holder["stop"] = lambda: loop.call_soon_threadsafe(stop.set)
        started.set()
        await serve(app, config, shutdown_trigger=stop.wait)

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the caller below
            holder["error"] = exc
            started.set()

    thread = threading.Thread(target=run, name="hypercorn-tls", daemon=True)
    thread.start()
    try:
        if not started.wait(10) or "error" in holder:
            raise RuntimeError(f"hypercorn did not start: {holder.get('error')!r}")
        wait_for_port(port, timeout=10)
        yield TlsServer(port, f"https://127.0.0.1:{port}")
    finally:
        if "stop" in holder:
            holder["stop"]()
        thread.join(10)
        if thread.is_alive():
            raise RuntimeError("hypercorn did not stop within 10 s")


def with_cors(app: Any, allow_origin: str, *, credentials: bool = False) -> Any:
    """``app`` with ``Access-Control-Allow-Origin`` (and, with ``credentials``,
    ``Access-Control-Allow-Credentials: true``) on every HTTP response: an ASGI middleware."""
    extra = [(b"access-control-allow-origin", allow_origin.encode("latin-1"))]
    if credentials:
        extra.append((b"access-control-allow-credentials", b"true"))

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with_cors)

    return wrapped


FIXED_NOW = datetime(2026, 11, 25, 17, 29, 55)


@dataclass(frozen=True)
class Memory:
    total: int = 16 * 1024**3
    percent: float = 41.5


def reference_app(samples: int = 8, interval: float = 0.05) -> Any:
    """The reference with a fixed clock and memory: every run streams the same bytes (so
    captures over TLS, HTTP/2 and proxies can be compared byte for byte). Never raises."""
    return create_app(
        Settings(interval=interval, samples=samples), read_memory=Memory, clock=lambda: FIXED_NOW
    )
