"""Which CPU a benchmark's processes run on: the server on one core, the load generator on the other.

On two cores a server and its load generator sharing a CPU measure each other; pinned apart, the
server's CPU time is its own. Where affinity or rlimits are missing the pins are skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from conformance.load.process import raise_hard_fd_limit

SERVER_CPU = 0
LOADGEN_CPU = 1
FDS_WANTED = 40_000  # the largest capacity step (20,000 streams) plus margin, on either side


def pin_to(cpu: int) -> Callable[[], None]:
    """A ``preexec_fn`` for a child: run on ``cpu``, with as many descriptors as allowed (the hard
    limit raised to :data:`FDS_WANTED` where the process may: CAP_SYS_RESOURCE). The returned
    function raises nothing (what the platform cannot do is skipped)."""

    def pin() -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setaffinity(0, {cpu})
        with contextlib.suppress(ImportError, ValueError, OSError):
            import resource

            raise_hard_fd_limit(FDS_WANTED)
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    return pin
