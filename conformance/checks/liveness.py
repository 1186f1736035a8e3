"""stream.heartbeat: does the stream stay audible often enough to survive the proxies in front of it?

An endless stream that goes quiet for a minute works on a laptop and dies in production: nginx,
AWS ALB, Heroku and Cloudflare cut a response that sent nothing for 55 to 100 s. Any byte resets
their timers (a ``: ping`` comment as much as an event), so the check measures the longest
silence on the wire from the chunks' arrival times, including the wait from the response headers
to the first byte and from the last byte to the end of the capture.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.capture.model import Capture, EndReason
from conformance.checks.context import CheckContext, body_evidence, plural, require_stream
from conformance.checks.registry import check
from conformance.checks.spec_links import SPEC_AUTHORING
from conformance.intermediaries import IDLE_LIMITS, detect, limits_exceeded, through
from conformance.models import Evidence, Outcome, Severity, passed, problem

# A connection cut abnormally after this much silence looks like an idle timeout in between.
CUT_AFTER = 1.0


@dataclass(frozen=True, slots=True)
class Silence:
    """The longest stretch with no body byte: from (t, offset) to (t, offset)."""

    start: float
    end: float
    offset: int  # the body offset where it began (and ended: no byte in between)
    after_headers: bool  # it began at the response headers (no body byte before it)
    at_end: bool  # it lasted until the end of the capture

    @property
    def length(self) -> float:
        """Seconds. Never raises."""
        return self.end - self.start


def longest_silence(cap: Capture) -> Silence | None:
    """The longest silence of a capture that got response headers, or None without them.
    Never raises."""
    if cap.t_headers is None:
        return None
    best = Silence(cap.t_headers, cap.t_headers, 0, True, not cap.chunks)
    t, offset, first = cap.t_headers, 0, True
    for chunk in cap.chunks:
        if chunk.t - t > best.length:
            best = Silence(t, chunk.t, offset, first, False)
        t, offset, first = chunk.t, chunk.offset + len(chunk.data), False
    if cap.t_end - t > best.length:
        best = Silence(t, cap.t_end, offset, first, True)
    return best


def _limits_text(length: float, wait_for_head: float) -> str:
    hit = limits_exceeded(length, first_byte_wait=wait_for_head)
    if not hit:
        lowest = min(limit.seconds for limit in IDLE_LIMITS)
        return f"close to the idle limits of common proxies ({lowest:g} s and up)"
    return "longer than " + ", ".join(f"{limit.name} ({limit.what})" for limit in hit) + " allow"


@check(
    "stream.heartbeat",
    "The stream is never silent long enough for a proxy to cut it",
    SPEC_AUTHORING,
    Severity.SHOULD,
    reads="the main connection's body bytes with their arrival times (any byte counts, comments too), from the headers to how the capture ended",
    doc="""pass: the longest silence on the wire (no byte at all: comments count, so do events)
    stayed below heartbeat_max (--heartbeat-max, default 30 s), counting from the response
    headers to the first byte and from the last byte to the end of the capture. A stream that
    sends data often enough needs no comments. warn: a longer silence, or a connection cut
    abnormally right after a silence of 1 s or more (the signature of an idle timeout in
    between); the reason names the proxies whose default idle limit it exceeds and the
    intermediaries the response headers show (Via, Server, CF-Ray...); evidence: the time and
    byte offset where the silence began and ended. The idle limits (defaults): nginx
    proxy_read_timeout 60 s (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout),
    AWS ALB idle timeout 60 s
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout),
    Heroku 30 s to the first byte then a rolling 55 s window
    (https://devcenter.heroku.com/articles/request-timeout), Cloudflare 100 s, error 524
    (https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/error-524/).
    The fix: a comment line (`: ping`) every 15 s or so.""",
)
def heartbeat(ctx: CheckContext) -> Outcome:
    """Never raises: every input is a verdict."""
    if (early := require_stream(ctx)) is not None:
        return early
    cap, limit = ctx.capture, ctx.profile.heartbeat_max
    silence = longest_silence(cap)
    if silence is None:  # no headers: require_stream has said so already
        return passed("no response to judge")
    seen = detect(cap.headers)
    where = through(seen)
    cut = (
        silence.at_end
        and cap.end_reason is EndReason.PROTOCOL_ERROR
        and silence.length >= CUT_AFTER
    )
    traffic = f"{plural(len(cap.events), 'event')}, {plural(cap.comments, 'comment')}"
    if silence.length < limit and not cut:
        return passed(
            f"longest silence {silence.length:.2f} s (limit {limit:g} s; {traffic} in "
            f"{cap.t_end:.1f} s)"
        )
    began = "the response headers" if silence.after_headers else f"byte {silence.offset}"
    reason = f"silent for {silence.length:.1f} s after {began} at t={silence.start:.2f} s"
    if cut:
        reason += (
            f", then the connection was cut{where} ({cap.end_message}): the signature of an "
            "idle timeout between server and client"
        )
    else:
        reason += f" (limit {limit:g} s)"
        if silence.at_end and cap.end_reason is EndReason.IDLE_TIMEOUT:
            reason += ", and at least that: the capture's idle limit (--idle-timeout) ended it"
        if where:
            reason += where
    reason += (
        f"; {_limits_text(silence.length, cap.t_headers or 0.0)}: send a comment line "
        f"(': ping') every 15 s or so ({traffic})"
    )
    end_text = (
        f"silence ended: end of capture ({cap.end_reason})"
        if silence.at_end
        else "silence ended by this byte"
    )
    evidence = [
        Evidence(silence.offset, f"silence began after {began}", silence.start),
        Evidence(silence.offset, end_text, silence.end)
        if silence.at_end
        else body_evidence(cap, silence.offset, t=silence.end),
        *(Evidence(None, f"{i.name}: {i.header}", label="intermediary") for i in seen),
    ]
    if not silence.at_end:
        evidence[1] = Evidence(
            evidence[1].offset, f"{end_text}: {evidence[1].excerpt}", silence.end
        )
    return problem(reason, *evidence)
