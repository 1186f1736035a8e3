"""The Locust user against the reference: a master and two worker processes on loopback."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from testing.support import free_port, server_process

# Never import locust here: importing it monkey-patches threading and sockets (gevent) for the
# whole pytest process, and every threaded test server after it breaks. Locust runs in subprocesses.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is not installed (extra: load)"
)

LOCUSTFILE = Path(__file__).resolve().parents[2] / "conformance" / "locust_user.py"
REFERENCE = [
    "-m",
    "reference",
    "--interval",
    "0.2",
    "--log-level",
    "warning",
    "--access-log",
    "false",
]


def locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


@pytest.mark.timeout(90)
def test_master_and_two_workers_report_lateness_first_event_and_streams(tmp_path: Path) -> None:
    with server_process(REFERENCE) as server:
        port = free_port()
        master = subprocess.Popen(
            locust(
                "--headless", "--master", "--expect-workers", "2",
                "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "-u", "20", "-r", "20", "-t", "5s", "--stop-timeout", "1",
                "--host", server.base_url, "--sse-interval", "0.2",
                "--csv", str(tmp_path / "run"), "--only-summary", "--loglevel", "WARNING",
            ),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        workers = [
            subprocess.Popen(
                locust(
                    "--worker",
                    "--master-host",
                    "127.0.0.1",
                    "--master-port",
                    str(port),
                    "--loglevel",
                    "WARNING",
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        try:
            out, _ = master.communicate(timeout=60)
            for worker in workers:
                worker.wait(timeout=15)
        finally:
            for proc in [master, *workers]:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stdout:
                    proc.stdout.close()
    text = out.decode(errors="replace")
    assert master.returncode == 0, text
    with (tmp_path / "run_stats.csv").open() as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh) if row["Type"] == "SSE"}
    assert set(rows) == {"first-event", "lateness", "stream"}, text
    assert int(rows["first-event"]["Request Count"]) >= 20  # every user opened a stream
    # 20 users x ~24 events in 5 s at 0.2 s: hundreds of lateness samples, all on time
    assert int(rows["lateness"]["Request Count"]) >= 200
    assert int(rows["lateness"]["Failure Count"]) == 0
    assert float(rows["lateness"]["99%"]) <= 250
    assert int(rows["stream"]["Failure Count"]) == 0
    assert int(rows["stream"]["Request Count"]) >= 20  # streams of 4.4 s ended normally
