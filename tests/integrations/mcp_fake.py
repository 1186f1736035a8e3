"""A small MCP Streamable HTTP server, good and broken, for the mcp-streamable-http profile.

Each variant is the good server with exactly one thing changed, so a test can say which check must
fail and that nothing else does. The good server does what the 2025-11-25 transport describes for
a resumable server: a POST carrying a request is answered with an SSE stream that starts with a
priming event (an id, empty data, a retry), then the JSON-RPC response with an id, then ends; the
initialize answer carries ``Mcp-Session-Id``; a request without it gets 400, one with an unknown
id 404; notifications get 202; a GET with ``Last-Event-ID`` replays what followed that id; DELETE
ends the session.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PATH = "/mcp"
VARIANTS = ("good", "json", "no-session", "session-not-enforced", "wrong-content-type")
TOOLS = [{"name": "add", "description": "Add two numbers.", "inputSchema": {"type": "object"}}]


def _result(method: str, params: dict[str, Any]) -> dict[str, Any]:
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion", "2025-11-25"),
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "fake-mcp", "version": "1.0"},
        }
    if method == "tools/list":
        return {"tools": TOOLS}
    return {}


def mcp_app(variant: str = "good") -> Starlette:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    sessions: set[str] = set()
    # event id -> the SSE frames sent after it on its stream (what a resume replays)
    history: dict[str, list[bytes]] = {}
    requests: list[dict[str, Any]] = []
    counter = [0]

    def next_id() -> str:
        counter[0] += 1
        return f"ev-{counter[0]}"

    def headers_for(sid: str | None) -> dict[str, str]:
        out = {"Cache-Control": "no-cache"}
        if sid is not None and variant != "no-session":
            out["Mcp-Session-Id"] = sid
        return out

    def sse(frames: list[bytes], sid: str | None) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for frame in frames:
                yield frame

        media = "text/plain" if variant == "wrong-content-type" else "text/event-stream"
        return StreamingResponse(body(), media_type=media, headers=headers_for(sid))

    async def endpoint(request: Request) -> Response:
        sid = request.headers.get("mcp-session-id")
        requests.append(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "body": (await request.body()).decode()[:60],
            }
        )
        if request.method == "DELETE":
            if sid not in sessions:
                return JSONResponse({"error": "unknown session"}, status_code=404)
            sessions.discard(sid)
            return Response(status_code=200)
        if request.method == "GET":
            return resume(request, sid)
        try:
            message = await request.json()
        except ValueError:
            return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32700}}, 400)
        method = message.get("method", "")
        if method == "initialize":
            sid = uuid.uuid4().hex
            sessions.add(sid)
        elif variant != "no-session":
            if sid is None and variant != "session-not-enforced":
                return JSONResponse({"error": "Bad Request: Missing session ID"}, status_code=400)
            if sid is not None and sid not in sessions:
                return JSONResponse({"error": "Session not found"}, status_code=404)
        if "id" not in message:  # a notification
            return Response(status_code=202, headers=headers_for(sid))
        response = {
            "jsonrpc": "2.0",
            "id": message["id"],
            "result": _result(method, message.get("params") or {}),
        }
        if variant == "json":
            return JSONResponse(response, headers=headers_for(sid))
        priming_id, response_id = next_id(), next_id()
        answer = f"id: {response_id}\nevent: message\ndata: {json.dumps(response)}\n\n".encode()
        history[priming_id] = [answer]
        history[response_id] = []
        return sse([f"id: {priming_id}\nretry: 1000\ndata: \n\n".encode(), answer], sid)

    def resume(request: Request, sid: str | None) -> Response:
        last = request.headers.get("last-event-id")
        if variant == "json" or last is None:
            return Response(status_code=405, headers={"Allow": "POST, DELETE"})
        if sid not in sessions and variant != "no-session":
            return JSONResponse({"error": "Session not found"}, status_code=404)
        return sse(history.get(last, []), sid)

    app = Starlette(routes=[Route(PATH, endpoint, methods=["GET", "POST", "DELETE"])])
    app.state.requests = requests
    return app
