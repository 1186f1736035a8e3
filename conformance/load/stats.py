"""The arithmetic of a load run: percentiles, lateness against a stream's cadence, error kinds.

Kept apart from sockets and clocks so each rule is testable with plain numbers.

Lateness. The first event of a connection is measured as *time to first event*; from the second
event on, a stream is expected to keep a cadence ``I`` (the ``--interval`` when given, otherwise
the median gap between its own events). Event ``k`` (k >= 1) is due at ``anchor + (k - 1) * I``,
where the anchor is the earliest schedule the stream has shown: ``min(t_j - (j - 1) * I)``. An
event's lateness is how far it arrived after its due time, so a server that falls behind a little
on every tick shows growing lateness (drift), while a stream whose first sample comes at a random
phase after connecting (a shared sampler ticking for everyone) is not penalised for that phase.
"""

from __future__ import annotations

import errno
import itertools
import math
import random
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from conformance.load.httpwire import HttpError


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default) of already sorted values; q in [0, 100]."""
    if not sorted_values:
        return math.nan
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile out of range: {q}")
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    frac = rank - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * frac


@dataclass(frozen=True, slots=True)
class Summary:
    """p50 / p90 / p99 / max of a sample, in seconds; NaN when there is no sample.

    ``count`` is every value seen; the quantiles may come from a bounded sample of them
    (:class:`Reservoir`), ``max`` is always exact.
    """

    count: int
    p50: float
    p99: float
    max: float
    p90: float = math.nan

    @classmethod
    def of(
        cls, values: Iterable[float], *, count: int | None = None, top: float | None = None
    ) -> Summary:
        ordered = sorted(values)
        if not ordered:
            return cls(count or 0, math.nan, math.nan, math.nan if top is None else top)
        return cls(
            len(ordered) if count is None else count,
            percentile(ordered, 50),
            percentile(ordered, 99),
            ordered[-1] if top is None else max(top, ordered[-1]),
            percentile(ordered, 90),
        )

    def as_ms(self) -> dict[str, float | int | None]:
        def ms(value: float) -> float | None:
            return None if math.isnan(value) else round(value * 1000.0, 3)

        return {
            "count": self.count,
            "p50_ms": ms(self.p50),
            "p90_ms": ms(self.p90),
            "p99_ms": ms(self.p99),
            "max_ms": ms(self.max),
        }


RESERVOIR_SIZE = 20_000  # per figure and step: exact quantiles below it, a uniform sample above


class Reservoir:
    """A uniform random sample of at most ``size`` values, the exact count and the exact max.

    Per-event figures (inter-event gaps, lateness) at 100,000 events per second would otherwise
    grow a list by the million per step. Algorithm L (Li, 1994): past the first ``size`` values
    each ``add`` is a countdown and a comparison; a random draw happens only when a value is
    kept, about ``size * ln(n / size)`` times in ``n`` values. The p99 of a 20,000-value uniform
    sample is within about +-0.15 percentile points of the true p99 (binomial standard error).
    Never raises.
    """

    __slots__ = ("_rng", "_skip", "_w", "count", "max", "size", "values")

    def __init__(self, size: int = RESERVOIR_SIZE, *, seed: int = 15) -> None:
        self.size = size
        self.values: list[float] = []
        self.count = 0
        self.max = -math.inf
        self._rng = random.Random(seed)
        self._w = 1.0
        self._skip = 0

    def add(self, value: float) -> None:
        self.count += 1
        if value > self.max:
            self.max = value
        if len(self.values) < self.size:
            self.values.append(value)
            if len(self.values) == self.size:
                self._next_skip()
            return
        if self._skip > 0:
            self._skip -= 1
            return
        self.values[self._rng.randrange(self.size)] = value
        self._next_skip()

    def _next_skip(self) -> None:
        rng = self._rng
        self._w *= math.exp(math.log(rng.random() or 1e-12) / self.size)
        self._skip = int(math.log(rng.random() or 1e-12) / math.log1p(-self._w))

    def extend(self, values: Iterable[float]) -> None:
        """:meth:`add` for many values, slice by slice: the filling phase and each run of
        skipped values cost one ``max`` over a slice, not a Python step per value (the same
        values kept as value-by-value ``add``, so the same sample for the same seed)."""
        batch = values if isinstance(values, list) else list(values)
        kept = self.values
        size = self.size
        i, n = 0, len(batch)
        while i < n:
            room = size - len(kept)
            step = room if room > 0 else self._skip
            if step <= 0:
                self.add(batch[i])  # kept in place of a random one; draws the next skip
                i += 1
                continue
            run = batch[i : i + step]
            top = max(run)
            if top > self.max:
                self.max = top
            self.count += len(run)
            i += len(run)
            if room > 0:
                kept.extend(run)
                if len(kept) == size:
                    self._next_skip()
            else:
                self._skip -= len(run)

    def summary(self) -> Summary:
        if not self.count:
            return Summary.of(())
        return Summary.of(self.values, count=self.count, top=self.max)

    def sample(self) -> Sample:
        """A copy of the kept values with the exact count and max: what a worker process sends
        so the parent can merge quantiles (:func:`conformance.load.merge.merge_samples`)."""
        return Sample(list(self.values), self.count, self.max)


@dataclass(frozen=True, slots=True)
class Sample:
    """A bounded sample of ``count`` values (``values`` is all of them or a uniform subset) and
    their exact ``max``; each kept value stands for ``count / len(values)`` values."""

    values: list[float]
    count: int
    max: float


def median(values: Sequence[float]) -> float:
    return percentile(sorted(values), 50)


def cadence_lateness(arrivals: Sequence[float], interval: float | None) -> list[float]:
    """Lateness of events 1..n-1 of one connection (event 0 is the time-to-first-event sample).

    ``arrivals`` are monotonic arrival times of every event of the connection, in order. Without
    ``interval`` the cadence is the median gap between events 1..n-1; with fewer than two such
    events there is no cadence to keep and the result is empty.
    """
    paced = arrivals[1:]
    if not paced:
        return []
    if interval is None:
        if len(paced) < 2:
            return []
        interval = median([b - a for a, b in itertools.pairwise(paced)])
    anchor = min(t - k * interval for k, t in enumerate(paced))
    return [max(0.0, t - k * interval - anchor) for k, t in enumerate(paced)]


class OnlineCadence:
    """Lateness event by event for a known interval, when results cannot wait for the stream's
    end (Locust statistics are live). Same rule as :func:`cadence_lateness`, but the anchor is
    the earliest schedule seen *so far*, so an event can only be judged against the past."""

    __slots__ = ("anchor", "count", "interval")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.count = 0
        self.anchor = math.inf

    def arrive(self, t: float) -> float | None:
        """Lateness of this event, or None for the first event of the connection."""
        k = self.count - 1
        self.count += 1
        if k < 0:
            return None
        due = t - k * self.interval
        if due < self.anchor:
            self.anchor = due
        return due - self.anchor


class ErrorKind(StrEnum):
    """Why a stream failed. A 503 (or 429) is the server refusing load, so it counts as refused."""

    REFUSED = "refused"  # connection refused, or HTTP 503/429 (load shedding)
    RESET = "reset"  # connection reset / broken pipe
    HTTP_4XX = "http-4xx"  # a client error other than 429 (bad key, bad body, unknown model)
    HTTP_5XX = "http-5xx"  # a server error other than 503
    NON_200 = "non-200"  # any other status than 200 (1xx, 204, 3xx)
    EARLY_CLOSE = "early-close"  # EOF before the first event (or mid-body for framed bodies)
    TIMEOUT = "timeout"  # counted as timeout:PHASE (connect, head, first-event, idle)
    PROTOCOL = "protocol"  # bytes that are not HTTP/1.1 we can follow
    TLS = "tls"  # the TLS handshake failed (certificate not trusted, wrong name, ...)
    OTHER = "other"  # anything else (DNS failure, ...), detail kept


REFUSING_STATUSES = frozenset({429, 503})


def classify_status(status: int) -> ErrorKind | None:
    """None for a 200 (a stream); otherwise the kind of failure the status is."""
    if status == 200:
        return None
    if status in REFUSING_STATUSES:
        return ErrorKind.REFUSED
    if 400 <= status < 500:
        return ErrorKind.HTTP_4XX
    if 500 <= status < 600:
        return ErrorKind.HTTP_5XX
    return ErrorKind.NON_200


MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's delay in seconds (delta-seconds form), None when absent or an
    HTTP date (not worth a clock comparison under load); capped at an hour. Never raises."""
    if not value:
        return None
    text = value.strip()
    if not text.isdigit():
        return None
    return min(float(text), MAX_RETRY_AFTER)


def classify_exception(exc: BaseException) -> ErrorKind:
    if isinstance(exc, ConnectionRefusedError):
        return ErrorKind.REFUSED
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return ErrorKind.RESET
    if isinstance(exc, TimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, HttpError):
        return ErrorKind.PROTOCOL
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return ErrorKind.TLS
    if isinstance(exc, OSError):
        if exc.errno == errno.ECONNREFUSED:
            return ErrorKind.REFUSED
        if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
            return ErrorKind.RESET
        if exc.errno == errno.ETIMEDOUT:
            return ErrorKind.TIMEOUT
    return ErrorKind.OTHER


def classify_eof(
    *, events: int, truncated: bool, min_events: int, endless: bool = False
) -> ErrorKind | None:
    """A connection the server closed: None when that is a normal end of the stream.

    A close before the first event, before ``min_events`` events, or in the middle of a framed
    body (chunked without the last chunk) is an early close; so is any close of a stream that
    is ``endless`` (``--endless``: it should never end). Never raises.
    """
    if endless or truncated or events == 0 or events < min_events:
        return ErrorKind.EARLY_CLOSE
    return None


def missing_between(previous_id: str, current_id: str) -> int:
    """Events skipped between two integer ids (0 when ids are not consecutive integers)."""
    if not (previous_id.isdigit() and current_id.isdigit()):
        return 0
    gap = int(current_id) - int(previous_id) - 1
    return gap if gap > 0 else 0
