"""Sessions for the SSE conformance kit.

Plain ``nox`` runs every session that tests; ``serve`` and ``bench`` run only when named.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
VUE_FILE = ROOT / "node_modules" / "vue" / "dist" / "vue.esm-browser.prod.js"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests", "conformance", "e2e"]
nox.options.reuse_venv = "yes"


def install_vue(session: nox.Session) -> None:
    """Install Vue from the npm registry (package-lock.json) unless it is already there."""
    if VUE_FILE.exists():
        return
    if shutil.which("npm") is None:
        session.warn("npm not found: the page will say how to install Vue (npm ci)")
        return
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)


@nox.session
def serve(session: nox.Session) -> None:
    """Run the reference RAM streamer (flags after -- go to python -m reference)."""
    session.install("-e", ".[reference]")
    install_vue(session)
    session.run("python", "-m", "reference", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and integration tests (everything but the browser tests), on two pytest-xdist workers.

    Most tests wait on loopback servers rather than compute, so two workers halve the wall time
    on two cores; ``nox -s tests -- -n 0`` runs them in one process.
    """
    session.install("-e", ".[test,load,bench,sdk,sdk-mcp,examples]")
    install_vue(session)
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session
def slow(session: nox.Session) -> None:
    """The slow tests (real servers held for minutes): not part of plain ``nox``; CI runs them."""
    session.install("-e", ".[test,load,bench,sdk,sdk-mcp,examples]")
    install_vue(session)
    session.run("pytest", "-m", "slow", *session.posargs, success_codes=[0, 5])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict."""
    session.install("-e", ".[dev,load,bench,sdk-mcp,examples]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def conformance(session: nox.Session) -> None:
    """Validate an SSE endpoint: ``nox -s conformance -- URL [flags]``; with no URL, the reference.

    Without a URL the reference is launched on a free loopback port at a 0.05 s interval through
    ``--launch`` (which always stops it), and judged against its contract (``--profile
    ram-monitor``, the suite's default being ``generic``) with the matching ``--interval``.
    """
    import socket

    session.install("-e", ".[reference]")
    args = list(session.posargs)
    if args and not args[0].startswith("-"):
        # A target was given (a URL, or something meant as one): the CLI judges it, or says in
        # its own words why it cannot (`nox -s conformance -- not-a-url`), not nox's traceback.
        session.run("sse-conformance", *args)
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    python = Path(session.bin) / "python"
    launch = f"{python} -m reference --host 127.0.0.1 --port {port} --interval 0.05"
    url = f"http://127.0.0.1:{port}/api/stream"
    session.run(
        "sse-conformance",
        url,
        "--profile",
        "ram-monitor",
        "--launch",
        launch,
        "--interval",
        "0.05",
        *args,
    )


@nox.session
def e2e(session: nox.Session) -> None:
    """Browser tests in Chromium, in their own pytest process (flags after -- go to pytest).

    With no --base-url they start the reference themselves; `-- --base-url URL` drives any deployment.
    """
    session.install("-e", ".[e2e]")
    install_vue(session)
    session.run(
        "pytest",
        "-c",
        "e2e/pytest.ini",
        "e2e",
        "--screenshot",
        "only-on-failure",
        "--tracing",
        "retain-on-failure",
        "--output",
        "test-results/e2e",
        *session.posargs,
    )


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and the wheel, ``twine check`` them, install the wheel into a fresh venv
    outside the repository, then as a tool with ``pipx install`` and ``uv tool install`` (in
    temporary PIPX_HOME / UV_TOOL_DIR folders), and run both console scripts and the suite from
    each (testing/wheel_check.py; ``-- --tools uv`` or ``-- --tools none`` to do less).

    Not part of plain ``nox`` (a build and three installs take a minute or two); .ci/run runs it.
    """
    session.install("build", "twine", "pipx", "uv")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    built = sorted(dist.iterdir())
    session.run("twine", "check", "--strict", *map(str, built))
    (wheel,) = (p for p in built if p.suffix == ".whl")
    session.run("python", str(ROOT / "testing" / "wheel_check.py"), str(wheel), *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks, not part of plain ``nox``; results under out/bench/ (flags after -- go to
    ``python -m bench.capacity``, e.g. ``-- --repeat 3`` or ``-- --only reference,baseline``)."""
    session.install("-e", ".[reference,bench,load]")
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("parser_throughput", "suite_speed"):
        output = session.run("python", "-m", f"bench.{name}", silent=True, success_codes=[0, 1])
        text = output if isinstance(output, str) else ""
        (out / f"{name}.txt").write_text(text, encoding="utf-8")
        session.log(f"bench.{name}:\n{text}")
    for name in ("generator_cost", "read_cost", "open_loop", "churn"):
        session.run("python", "-m", f"bench.{name}", "--out", str(out))
    session.run("python", "-m", "bench.capacity", "--out", str(out), *session.posargs)
