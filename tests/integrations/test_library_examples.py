"""The suite against each library's own SSE example, as its docs show it (testing/examples/).

These servers were not written for the suite, which is where false verdicts hide: each must get
no failure, and exactly the warnings that are true of it. The finite examples close after a few
events without ids, so a browser's EventSource reconnects 3 s later and gets the whole run again,
forever (``reconnect.after-end``), and could not resume a cut (``reconnect.ids``); Flask and
Django send no Cache-Control (``http.cache-control``); Go's net/http is the
hand-written stream with http.Flusher. The endless ones (better-sse, hono) are
held for a few seconds and pass everything. Express behind the compression middleware
without ``res.flush()`` is the known-bad one: every event arrives at the end. Slow: fourteen real servers, each run to its end.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.launch import launched
from conformance.models import Report, Verdict
from conformance.profiles import load_profile
from conformance.runner import run_suite_sync
from testing.support import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "testing" / "examples"
NO_IDS = {"reconnect.ids", "reconnect.after-end"}  # a finite stream without ids: the restart loop


@dataclass(frozen=True)
class Example:
    name: str  # the file in testing/examples/
    path: str  # the stream's path on the example's server
    warns: frozenset[str]
    hold: float | None = None  # endless: read this long, then judge
    fails: frozenset[str] = frozenset()  # a known-bad example: exactly these fail
    reason: str = ""  # words the first failure's reason must hold
    env: tuple[tuple[str, str], ...] = ()

    def command(self, build_dir: Path) -> list[str]:
        """The example's command line (a Go example is built into ``build_dir`` first)."""
        file = EXAMPLES / self.name
        if file.suffix == ".go":
            binary = build_dir / file.stem
            env = {**os.environ, "GOCACHE": str(build_dir / "gocache"), "GOFLAGS": "-mod=mod"}
            built = subprocess.run(
                ["go", "build", "-o", str(binary), str(file)],
                capture_output=True, text=True, timeout=300, env=env, check=False,
            )  # fmt: skip
            assert built.returncode == 0, built.stderr
            return [str(binary)]
        runner = "node" if file.suffix == ".mjs" else sys.executable
        return [runner, str(file)]


def example(
    name: str,
    path: str,
    *warns: str,
    hold: float | None = None,
    fails: frozenset[str] = frozenset(),
    reason: str = "",
    env: tuple[tuple[str, str], ...] = (),
) -> Example:
    return Example(name, path, frozenset(warns), hold, fails, reason, env)


PYTHON = [
    example("flask_stream.py", "/stream", "http.cache-control", *NO_IDS),
    example("litestar_count.py", "/count", *NO_IDS),
    example("sse_starlette_quickstart.py", "/events", *NO_IDS),
    example("fastapi_sse_items.py", "/items/stream", *NO_IDS),
    example("django_stream.py", "/stream", "http.cache-control", *NO_IDS),
    example("aiohttp_sse_hello.py", "/hello", *NO_IDS),
    example("quart_sse.py", "/sse", *NO_IDS),
]
NODE = [
    example("express_events.mjs", "/events", *NO_IDS),
    example("fastify_raw.mjs", "/events", *NO_IDS),
    example("better_sse_session.mjs", "/sse", hold=2.0),
    example("hono_stream_sse.mjs", "/sse", hold=2.0),
    # the compression middleware's README: flushed after each event it is fine; without the
    # flush the compressor holds every event to the end (stream.incremental names it)
    example("express_compression.mjs", "/events", *NO_IDS, env=(("EXAMPLE_FLUSH", "1"),)),
    example(
        "express_compression.mjs",
        "/events",
        *NO_IDS,
        fails=frozenset({"stream.incremental"}),
        reason="compressed (Content-Encoding: br)",
    ),
]
# the library each Python example imports (uvicorn for the rest: FastAPI and sse-starlette come
# with the test extras)
REQUIRES = {
    "flask_stream.py": "flask",
    "litestar_count.py": "litestar",
    "django_stream.py": "django",
    "aiohttp_sse_hello.py": "aiohttp_sse",
    "quart_sse.py": "quart",
}
GO = [example("go_net_http.go", "/events", *NO_IDS)]


def judged(report: Report, verdict: Verdict) -> set[str]:
    return {r.check_id for r in report.results if r.verdict is verdict}


def not_passing(report: Report) -> list[tuple[str, str, str]]:
    bad = (Verdict.FAIL, Verdict.WARN)
    return [(r.check_id, r.verdict, r.reason) for r in report.results if r.verdict in bad]


def node_ready() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "better-sse").is_dir()


def params() -> list[object]:
    skip_node = pytest.mark.skipif(
        not node_ready(), reason="node or node_modules/better-sse missing (run npm ci)"
    )
    cases: list[object] = [pytest.param(e, id=e.name) for e in PYTHON]
    cases += [
        pytest.param(e, id=e.name + ("-flushed" if e.env else ""), marks=skip_node) for e in NODE
    ]
    skip_go = pytest.mark.skipif(shutil.which("go") is None, reason="go is not on the PATH")
    cases += [pytest.param(e, id=e.name, marks=skip_go) for e in GO]
    return cases


@pytest.mark.parametrize("case", params())
def test_a_library_example_gets_exactly_its_true_warnings(case: Example, tmp_path: Path) -> None:
    if case.name.endswith(".py"):
        pytest.importorskip(REQUIRES.get(case.name, "uvicorn"))
    port = free_port()
    url = f"http://127.0.0.1:{port}{case.path}"
    profile = load_profile("generic").replace(deadline=20.0, hold=case.hold)
    command = shlex.join([*case.command(tmp_path), str(port)])
    env = {**os.environ, **dict(case.env)}
    ready = f"http://127.0.0.1:{port}/"
    with launched(command, url, ready_url=ready, ready_timeout=30, env=env):
        report = run_suite_sync(url, profile)
    assert report.capture.status == 200, not_passing(report)
    assert judged(report, Verdict.FAIL) == case.fails, not_passing(report)
    assert judged(report, Verdict.WARN) == case.warns, not_passing(report)
    for check_id in case.fails:
        assert case.reason in report.result(check_id).reason
    assert len(report.capture.events) >= 3
