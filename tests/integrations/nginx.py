"""A throwaway nginx reverse proxy on loopback, configured the way most deployments are.

Why a real nginx: "it streams in dev and arrives in one lump in production" is the commonest SSE
bug report, and it is nearly always a buffering proxy. Only the real thing proves the suite sees it.

Everything nginx writes (pid, logs, temp files) lives in a temporary directory; it runs in the
foreground without a master process, so the process we start is the one that serves and the one
we stop. ``proxy_buffering on`` with buffers larger than a whole test stream makes the buffering
visible: nothing reaches the client until the upstream closes, unless the upstream opts out per
response with ``X-Accel-Buffering: no``.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from testing.support import free_port, stop_process, wait_for_port

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx")


def find_nginx() -> str | None:
    for candidate in NGINX_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("nginx")


# What an unsuspecting deployment looks like: buffering is nginx's default, and gzip for
# text/event-stream is what "compress all text" configs end up doing. Measured on nginx 1.22:
# proxy_buffering on alone still forwards every upstream read to a fast client at once; what holds
# the events back is a buffering filter in the output chain (gzip here; sub_filter, ssi likewise),
# because in buffered mode nothing flushes it. ``X-Accel-Buffering: no`` (or ``proxy_buffering
# off``) puts nginx in unbuffered mode, which flushes after every upstream read, through gzip too.
LOCATION_BUFFERED = """
            proxy_buffering on;
            proxy_buffer_size 64k;
            proxy_buffers 8 64k;
            proxy_busy_buffers_size 128k;
            gzip on;
            gzip_types text/event-stream;
            gzip_min_length 0;
"""

# The settings the README recommends in front of an SSE endpoint.
LOCATION_SSE = """
            proxy_buffering off;
            proxy_cache off;
            gzip off;
            proxy_read_timeout 1h;
"""

CONFIG = """
worker_processes 1;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port}{listen_tls};
{server_tls}
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
{location}
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Proxy:
    port: int
    base_url: str
    config: str
    error_log: Path


# TLS + HTTP/2 in front (nginx 1.22 syntax: ``http2`` is a parameter of ``listen``; 1.25+ also
# has ``http2 on;``), the usual production shape in front of a plain-HTTP app.
SERVER_TLS = """
        ssl_certificate {cert};
        ssl_certificate_key {key};
"""


@contextlib.contextmanager
def nginx_proxy(
    upstream_port: int,
    tmp: Path,
    *,
    location: str = LOCATION_BUFFERED,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[Proxy]:
    """Run nginx in front of 127.0.0.1:``upstream_port`` until the block ends; with ``tls``
    (certificate chain, key) it listens with TLS and HTTP/2 and ``base_url`` is https."""
    nginx = find_nginx()
    if nginx is None:
        raise FileNotFoundError("nginx")
    port = free_port()
    config = CONFIG.format(
        tmp=tmp,
        port=port,
        upstream_port=upstream_port,
        location=location,
        listen_tls=" ssl http2" if tls else "",
        server_tls=SERVER_TLS.format(cert=tls[0], key=tls[1]) if tls else "",
    )
    conf_file = tmp / "nginx.conf"
    conf_file.write_text(config)
    error_log = tmp / "error.log"
    # -e: nginx opens its default error log before reading the config; keep even that in tmp.
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(conf_file), "-e", str(error_log)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        try:
            wait_for_port(port, timeout=15)
        except TimeoutError:
            log = error_log.read_text() if error_log.exists() else "(no error log)"
            raise RuntimeError(f"nginx did not start: {log}") from None
        scheme = "https" if tls else "http"
        yield Proxy(port, f"{scheme}://127.0.0.1:{port}", config, error_log)
    finally:
        stop_process(proc)
