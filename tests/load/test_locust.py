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
pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("locust") is None, reason="locust is not installed (extra: load)"
    ),
    pytest.mark.slow,  # a master and two workers for ~10 s each: `nox -s slow` (CI runs it)
]

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


TOKEN_FAKE = ["-m", "bench.apps.token_rate", "--rate", "20", "--tokens", "40", "--slots", "100"]


def distributed_run(tmp_path: Path, *options: str) -> tuple[dict[str, dict[str, str]], str]:
    """A master and two workers for 5 s with ``options``; the SSE rows of the stats CSV."""
    port = free_port()
    master = subprocess.Popen(
        locust(
            "--headless", "--master", "--expect-workers", "2",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "-u", "20", "-r", "20", "-t", "5s", "--stop-timeout", "1",
            "--csv", str(tmp_path / "run"), "--only-summary", "--loglevel", "WARNING",
            *options,
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
    return rows, text


@pytest.mark.timeout(90)
def test_master_and_two_workers_report_lateness_ttft_itl_and_streams(tmp_path: Path) -> None:
    with server_process(REFERENCE) as server:
        rows, text = distributed_run(tmp_path, "--host", server.base_url, "--sse-interval", "0.2")
    assert set(rows) == {"TTFT", "ITL", "lateness", "stream"}, text
    assert int(rows["TTFT"]["Request Count"]) >= 20  # every user opened a stream
    # 20 users x ~24 events in 5 s at 0.2 s: hundreds of lateness samples, all on time
    assert int(rows["lateness"]["Request Count"]) >= 200
    assert int(rows["lateness"]["Failure Count"]) == 0
    assert float(rows["lateness"]["99%"]) <= 250
    assert int(rows["stream"]["Failure Count"]) == 0
    assert int(rows["stream"]["Request Count"]) >= 20  # streams of 4.4 s ended normally


@pytest.mark.timeout(90)
def test_openai_style_posts_at_20_events_per_second_report_ttft_and_itl(tmp_path: Path) -> None:
    with server_process(TOKEN_FAKE) as server:
        rows, text = distributed_run(
            tmp_path,
            "--host", server.base_url, "--sse-path", "/v1/chat/completions",
            "--sse-profile", "openai-chat", "--sse-header", "Authorization: Bearer test",
        )  # fmt: skip
    assert set(rows) == {"TTFT", "ITL", "stream"}, text
    assert int(rows["TTFT"]["Failure Count"]) == 0
    assert int(rows["TTFT"]["Request Count"]) >= 20  # every user POSTed and got a first token
    assert float(rows["TTFT"]["50%"]) <= 300  # the fake's 50 ms prefill, on a shared machine
    # 20 users x 20 tokens/s x ~4 s: well over a thousand gaps, 50 ms apart
    assert int(rows["ITL"]["Request Count"]) >= 1000
    assert 40 <= float(rows["ITL"]["50%"]) <= 60
    assert int(rows["stream"]["Failure Count"]) == 0
    assert int(rows["stream"]["Request Count"]) >= 20  # 2 s generations ended with [DONE]
