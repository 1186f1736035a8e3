"""The graphql-sse follow-up: one POST of a query that fails validation, recorded for the checks.

Kept apart from the checks (:mod:`conformance.contracts.graphql_sse`) so the runner can import the
driver without registering checks out of the catalogue's order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conformance.capture.http import capture
from conformance.capture.model import Capture, CaptureRequest
from conformance.profiles import Profile

CONTRACT = "graphql-sse"
# A field no schema has: the document fails validation whatever the server's schema is.
DEFAULT_INVALID_QUERY = "subscription { conformanceNoSuchField }"


@dataclass(frozen=True)
class GraphqlRun:
    """The follow-up: the invalid operation sent and what came back."""

    query: str
    capture: Capture

    def requests(self) -> list[tuple[str, Capture]]:
        """The one request, labelled as reports name it. Never raises."""
        return [("POST of an operation that fails validation", self.capture)]


async def follow_up(target: str, profile: Profile, main: Capture) -> GraphqlRun | None:
    """POST a query that fails validation, as the profile's request does; None for other contracts.

    Never raises: the exchange is one bounded capture (the profile's limits).
    """
    if profile.contract != CONTRACT:
        return None
    query = str(profile.options.get("invalid_query", DEFAULT_INVALID_QUERY))
    request = profile.capture_request(main.url or target)
    body = json.dumps({"query": query}).encode("utf-8")
    cap = await capture(
        CaptureRequest(request.url, "POST", request.headers, body),
        profile.limits,
        is_last=lambda event, index: event.type == "complete",
    )
    return GraphqlRun(query, cap)
