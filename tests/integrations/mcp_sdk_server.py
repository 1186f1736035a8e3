"""The official MCP Python SDK's server with one tool, over the streamable-http transport.

Run by tests/integrations/test_mcp_profile.py as a process of its own (``python
tests/integrations/mcp_sdk_server.py --host H --port P [--json-response] [--resumable]``).
``--resumable`` gives the SDK an in-memory event store (the SDK's ``EventStore`` interface): the
server then sends priming events with ids and a retry, and replays on GET with Last-Event-ID.
"""

from __future__ import annotations

import argparse
import itertools

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore


class MemoryEventStore(EventStore):
    """Every event of every stream, in order; replay sends those after an id on its stream."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []  # (event id, stream id, message or None)
        self.ids = itertools.count(1)

    async def store_event(self, stream_id: str, message: object) -> str:
        event_id = f"{stream_id}:{next(self.ids)}"
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(
        self, last_event_id: str, send_callback: EventCallback
    ) -> str | None:
        found = next((i for i, e in enumerate(self.events) if e[0] == last_event_id), None)
        if found is None:
            return None
        stream_id = self.events[found][1]
        for event_id, sid, message in self.events[found + 1 :]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))  # type: ignore[arg-type]
        return stream_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--resumable", action="store_true")
    args = parser.parse_args()
    server = MCPServer("conformance-demo")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    server.run(
        "streamable-http",
        host=args.host,
        port=args.port,
        json_response=args.json_response,
        event_store=MemoryEventStore() if args.resumable else None,
        retry_interval=1000 if args.resumable else None,
    )


if __name__ == "__main__":
    main()
