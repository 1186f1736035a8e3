"""The FastAPI app: the stream, its config and health, and the page with a locally served Vue.

No CORS middleware at all (the page is same-origin; the demo's wildcard-with-credentials is gone),
static files are served by Starlette's StaticFiles (which refuses paths that leave ``static/``), and
Vue is one fixed route onto the npm package, so nothing is fetched from a CDN.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Receive, Scope, Send

from reference.sampler import MemoryReading, Sampler
from reference.settings import PROJECT_ROOT, VUE_FILE_NAME, Settings
from reference.stream import FIRST_MESSAGE, SENTINEL, SSEStream, StreamHub

STREAM_PATH = "/api/stream"
VUE_URL = "/vendor/" + VUE_FILE_NAME
LAST_EVENT_ID_DIGITS = re.compile(r"[0-9]{1,9}")
MISSING_VUE_MARKER = "<!-- vue-missing -->"


def _error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def _missing_vue_banner(settings: Settings) -> str:
    try:
        where = settings.vue_dir.relative_to(PROJECT_ROOT)
        folder = str(PROJECT_ROOT)
    except ValueError:
        where, folder = settings.vue_dir, str(PROJECT_ROOT)
    return (
        '<div class="setup-error" data-testid="setup-error" role="alert">'
        f"Vue is not installed ({html.escape(str(where))}/{VUE_FILE_NAME} is missing): "
        f"run <code>npm ci</code> in <code>{html.escape(folder)}</code>, then reload this page."
        "</div>"
    )


class ReferenceApp(FastAPI):
    """FastAPI whose GET /api/stream skips the middleware stack.

    Every ``send`` of a response served through FastAPI passes through about six wrapper layers
    (error, exception, body-limit, telemetry middlewares...). A stream sends once per tick for
    its whole life, so with thousands of streams those layers are a measurable share of the
    per-event cost; the stream's own code handles its errors, so it is dispatched here directly.
    Everything else (and every other method on /api/stream) goes through FastAPI as usual.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == STREAM_PATH:
            await self.state.stream_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    read_memory: Callable[[], MemoryReading] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the app; ``read_memory`` and ``clock`` replace psutil and local time in tests."""
    settings = settings or Settings()
    sampler_args: dict[str, Any] = {}
    if read_memory is not None:
        sampler_args["read_memory"] = read_memory
    if clock is not None:
        sampler_args["clock"] = clock
    sampler = Sampler(settings.interval, send_timeout=settings.send_timeout, **sampler_args)
    hub = StreamHub(sampler, max_streams=settings.max_streams, queue_size=settings.inbox_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        hub.shutdown()
        await sampler.stop()

    app = ReferenceApp(
        title="RAM Monitor Stream",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Starlette's slash redirects build an absolute Location from the Host header (and so
        # reflect whatever a client sends); the one redirect the app needs is written below.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.sampler = sampler
    vue_file = settings.vue_dir / VUE_FILE_NAME
    last_id = settings.samples + 1

    def stream_response(last_event_id: str | None) -> Response:
        """Decide what a GET /api/stream gets: the stream, 204, 400 or 503."""
        hub.counters.requests += 1
        first_id = 0
        # HTTP strips the whitespace around a field value (RFC 9110 5.5), so " 5", "5 " and "5"
        # are the same id (httptools strips only the leading side; h11 both).
        if last_event_id is not None:
            last_event_id = last_event_id.strip(" \t")
        # An empty Last-Event-ID means "no id" (EventSource never sends one; treat it as absent).
        if last_event_id:
            if not LAST_EVENT_ID_DIGITS.fullmatch(last_event_id) or int(last_event_id) > last_id:
                return _error(
                    400,
                    "invalid_last_event_id",
                    f"Last-Event-ID must be an integer from 0 to {last_id} "
                    f"(the ids of this run), got {last_event_id[:40]!r}",
                )
            resume_after = int(last_event_id)
            if resume_after == last_id:
                # The client saw the sentinel's id: the run is over, 204 tells EventSource to stop.
                return Response(status_code=204)
            first_id = resume_after + 1
        if not hub.has_room():
            hub.counters.refused += 1
            why = (
                "the server is shutting down"
                if hub.closing
                else f"too many open streams (max {settings.max_streams})"
            )
            return _error(503, "unavailable", why, {"Retry-After": "5"})
        return SSEStream(hub, samples=settings.samples, first_id=first_id)

    app.state.stream_response = stream_response

    async def stream_app(scope: Scope, receive: Receive, send: Send) -> None:
        """GET /api/stream without the middleware stack (see ReferenceApp)."""
        last_event_id = None
        for name, value in scope["headers"]:
            if name == b"last-event-id":
                last_event_id = value.decode("latin-1")
                break
        await stream_response(last_event_id)(scope, receive, send)

    # --allowed-hosts: a Host outside the list gets 400, on the fast path too
    app.state.stream_app = (
        TrustedHostMiddleware(stream_app, allowed_hosts=list(settings.allowed_hosts))
        if settings.allowed_hosts
        else stream_app
    )
    if settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))

    @app.get("/static", include_in_schema=False)
    async def static_folder() -> Response:
        # relative: the Location never names a host the client made up
        return Response(status_code=307, headers={"Location": "/static/"})

    # Kept for routing (405 with Allow: GET for other methods); ReferenceApp answers GET itself.
    @app.get("/api/stream")
    async def stream(request: Request) -> Response:
        return stream_response(request.headers.get("last-event-id"))

    @app.get("/api/config")
    async def config() -> dict[str, Any]:
        return {
            "samples": settings.samples,
            "interval": settings.interval,
            "total_messages": settings.total_messages,
            "first_message": FIRST_MESSAGE,
            "sentinel": SENTINEL,
        }

    # HEAD too: `curl -I` is how people check that a server is up.
    @app.api_route("/healthz", methods=["GET", "HEAD"])
    async def healthz() -> dict[str, Any]:
        counters = hub.counters
        return {
            "status": "shutting_down" if hub.closing else "ok",
            "open_streams": hub.open_streams,
            "max_streams": settings.max_streams,
            "stream_requests": counters.requests,
            "streams_started": counters.started,
            "streams_completed": counters.completed,
            "streams_disconnected": counters.disconnected,
            "streams_dropped": counters.dropped,
            "streams_refused": counters.refused,
            "sampler_running": sampler.running,
            "sampler_ticks": sampler.ticks,
            "vue_installed": vue_file.is_file(),
        }

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        page = (settings.static_dir / "index.html").read_text(encoding="utf-8")
        if not vue_file.is_file():
            page = page.replace(MISSING_VUE_MARKER, _missing_vue_banner(settings))
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    @app.get(VUE_URL)
    async def vue() -> Response:
        if not vue_file.is_file():
            return _error(404, "vue_missing", "Vue is not installed: run npm ci")
        return FileResponse(vue_file, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    return app
