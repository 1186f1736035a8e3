"""What contracts add to a run beyond the generic clients: follow-up jobs and profile checks.

Some contracts are conversations, not one stream (MCP sends requests after ``initialize``;
graphql-sse sends a second query): their follow-up job runs after the main capture and its record
reaches the checks as ``CheckContext.extra[name]``, keyed by a check's ``needs`` name. A contract
may also refuse a profile it cannot judge (``validate_profile``, e.g. an MCP protocol version it
does not know). The runner reads both tables from here, so it names no contract itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from conformance.capture.model import Capture
from conformance.contracts import graphql_session, mcp_session
from conformance.models import FollowUpRecord
from conformance.profiles import Profile

FollowUp = Callable[[str, Profile, Capture], Awaitable[FollowUpRecord | None]]
# job(target, profile, main) -> record, or None when the profile is not its contract.
FOLLOW_UPS: dict[str, FollowUp] = {
    "mcp": mcp_session.follow_up,
    "graphql": graphql_session.follow_up,
}
PROFILE_VALIDATORS: dict[str, Callable[[Profile], None]] = {
    mcp_session.CONTRACT: mcp_session.validate_profile,
}


def validate_profile(profile: Profile) -> None:
    """Let the profile's contract refuse settings it cannot judge.

    Raises ProfileError (a UsageError) with one line, e.g. for an unsupported MCP protocol version.
    """
    if profile.contract is not None and profile.contract in PROFILE_VALIDATORS:
        PROFILE_VALIDATORS[profile.contract](profile)
