"""``python -m reference`` / ``ram-monitor``: run the reference with uvicorn.

uvicorn's graceful shutdown waits for every open response to finish, and an SSE stream may run for
minutes; :class:`StreamingServer` first ends every stream (the hub wakes them, each finishes its
response cleanly), then lets uvicorn shut down, with ``timeout_graceful_shutdown`` as a backstop
for a client that no longer reads. SIGINT/SIGTERM therefore exit within about one second.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

import uvicorn

from reference.app import create_app
from reference.settings import ConfigError, Settings, parse_settings
from reference.stream import StreamHub


class StreamingServer(uvicorn.Server):
    """uvicorn.Server that ends the open SSE streams before its graceful shutdown."""

    def __init__(self, config: uvicorn.Config, hub: StreamHub) -> None:
        super().__init__(config)
        self.hub = hub

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.hub.shutdown()
        await super().shutdown(sockets)


def create_server(settings: Settings) -> StreamingServer:
    """The server ``main`` runs; tests use it to run the real thing in a thread."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
        lifespan="on",
    )
    return StreamingServer(config, app.state.hub)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_settings(sys.argv[1:] if argv is None else argv)
    except ConfigError as error:
        print(f"ram-monitor: error: {error}", file=sys.stderr)
        return 2
    # If the port is taken uvicorn logs one line and exits 1 by itself.
    create_server(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
