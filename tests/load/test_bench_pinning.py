"""bench.pinning: a benchmark's server child runs on its own CPU with every descriptor allowed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.pinning import SERVER_CPU, pin_to

REPORT = (
    "import os, resource; soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE); "
    "print(sorted(os.sched_getaffinity(0)), soft == hard)"
)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_the_child_runs_on_its_cpu_with_the_hard_descriptor_limit() -> None:
    child = subprocess.run(
        [sys.executable, "-c", REPORT],
        preexec_fn=pin_to(SERVER_CPU),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert child.stdout.split() == [f"[{SERVER_CPU}]", "True"]
