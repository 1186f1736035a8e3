"""Run the real reference server (its uvicorn.Server subclass) with tiny kernel send buffers.

On loopback the kernel lets a send buffer grow to 4 MB, so a client that stops reading a
70-byte-per-event stream would take minutes to block the server. Accepted sockets inherit
SO_SNDBUF from the listening socket, so a small value there makes "the client stopped reading"
bite within seconds, as it would on a slow network; nothing in the reference changes.
Usage: python tests/load/smallbuf_reference.py [reference flags] --host H --port P
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reference.__main__ import create_server
from reference.settings import parse_settings

SEND_BUFFER = 4096


def main() -> None:
    settings = parse_settings(sys.argv[1:])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    sock.bind((settings.host, settings.port))
    sock.listen(1024)
    create_server(settings).run(sockets=[sock])


if __name__ == "__main__":
    main()
