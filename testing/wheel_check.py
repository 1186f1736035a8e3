"""Install a built wheel into a fresh venv outside the repository and use it as a user would.

``python testing/wheel_check.py dist/sse_conformance_kit-X-py3-none-any.whl`` (the ``package``
nox session runs it after ``python -m build`` and ``twine check``). Standard library only, and
every command runs from a temporary folder with no PYTHONPATH, so nothing of the checkout can
stand in for what the wheel forgot: a packaging bug fails here, not on a user's machine.

What it checks: the wheel's files (the page, Vue's browser build and its license) and its
metadata (the core needs no web framework); both scripts' ``--version``; ``ram-monitor`` serves
the page, Vue from the wheel (no CDN, no node_modules) and answers ``HEAD /``; and
``sse-conformance URL --profile ram-monitor`` passes against it. Then the same wheel is installed
as a tool, the way the README shows, with ``pipx install`` and ``uv tool install`` (each into
folders of its own under the temporary directory: PIPX_HOME/PIPX_BIN_DIR/PIPX_MAN_DIR,
UV_TOOL_DIR/UV_TOOL_BIN_DIR, so nothing outside it changes), and from each: both scripts'
``--version`` and the suite against the installed reference it launches (``--launch``).
``--tools`` picks which (default ``pipx,uv``; ``--tools none`` for the venv only). Exits 1 with
one line per problem; every wait has a limit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import Parser as MetadataParser
from pathlib import Path

VUE = "vue.esm-browser.prod.js"
WHEEL_FILES = (
    "reference/static/index.html",
    "reference/static/app.js",
    "reference/static/style.css",
    f"reference/vendor/{VUE}",
    "reference/vendor/LICENSE-vue",
    "conformance/cli.py",
)
SERVER_FRAMEWORK = ("fastapi", "uvicorn", "psutil")


class CheckError(Exception):
    """One line: what the installed wheel got wrong."""


def log(text: str) -> None:
    print(f"wheel-check: {text}", flush=True)


def check_wheel_contents(wheel: Path) -> str:
    """The files a user needs are in the wheel, and the core requires no web framework.
    Returns the version; raises CheckError."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = [name for name in WHEEL_FILES if name not in names]
        if missing:
            raise CheckError(f"the wheel lacks {', '.join(missing)}")
        if any(name.startswith(("tests/", "testing/", "e2e/", "node_modules/")) for name in names):
            raise CheckError("the wheel carries the repository's tests or node_modules")
        (meta_name,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = MetadataParser().parsestr(archive.read(meta_name).decode("utf-8"))
    for requirement in metadata.get_all("Requires-Dist") or []:
        name = requirement.split(";")[0].strip().lower()
        if name.startswith(SERVER_FRAMEWORK) and "extra ==" not in requirement:
            raise CheckError(f"the core requires {requirement!r}: it belongs in [reference]")
    extras = set(metadata.get_all("Provides-Extra") or [])
    if not {"reference", "pytest", "browser", "load", "test"} <= extras:
        raise CheckError(f"extras missing from the metadata: {sorted(extras)}")
    return str(metadata["Version"])


def make_venv(where: Path, wheel: Path) -> Path:
    """A fresh venv with ``wheel[reference]`` installed; returns its bin folder."""
    uv = shutil.which("uv")
    if uv:
        run([uv, "venv", "--quiet", "--python", sys.executable, str(where)], cwd=where.parent)
        python = where / "bin" / "python"
        run([uv, "pip", "install", "--quiet", "--python", str(python), f"{wheel}[reference]"])
    else:
        run([sys.executable, "-m", "venv", str(where)], cwd=where.parent)
        python = where / "bin" / "python"
        run([str(python), "-m", "pip", "install", "-q", f"{wheel}[reference]"])
    return where / "bin"


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONSAFEPATH"] = "1"  # not even the current folder on sys.path
    env.update(extra or {})
    return env


def run(
    argv: list[str],
    cwd: Path | None = None,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a command, return its stdout; raises CheckError with its last output line."""
    done = subprocess.run(
        argv, cwd=cwd, env=clean_env(env), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise CheckError(f"{' '.join(argv[:3])} ... exited {done.returncode}: {last[0]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, content type, body) of a loopback URL; raises OSError."""
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read().decode("utf-8", "replace")
        return response.status, response.headers.get("content-type", ""), body


def wait_until_up(base: str, server: subprocess.Popen[bytes], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckError(f"ram-monitor exited {server.returncode} before answering")
        try:
            fetch(base + "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise CheckError(f"ram-monitor did not answer {base}/healthz within {limit:.0f} s")


def check_installed(bin_dir: Path, home: Path, version: str) -> None:
    """Both scripts, run from ``home`` (outside the repository); raises CheckError."""
    python = str(bin_dir / "python")
    where = run(
        [
            python,
            "-c",
            "import conformance, reference; print(conformance.__file__, reference.__file__)",
        ],
        cwd=home,
    ).split()
    venv = str(bin_dir.parent)
    if not all(path.startswith(venv) for path in where):
        raise CheckError(f"imported from outside the venv: {where}")
    for script in ("sse-conformance", "ram-monitor"):
        shown = run([str(bin_dir / script), "--version"], cwd=home).strip()
        if shown != f"{script} {version}":
            raise CheckError(f"{script} --version printed {shown!r}, not '{script} {version}'")
        log(f"{shown}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(bin_dir / "ram-monitor"), "--port", str(port), "--interval", "0.05"]
    server = subprocess.Popen(
        [*command, "--access-log", "false"],
        cwd=home,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base, server)
        log(f"ram-monitor is up on {base}")
        check_page(base)
        report = home / "report.json"
        run(
            [
                str(bin_dir / "sse-conformance"),
                f"{base}/api/stream",
                "--profile",
                "ram-monitor",
                "--interval",
                "0.05",
                "--json-report",
                str(report),
            ],
            cwd=home,
            timeout=120,
        )
        log(f"sse-conformance {base}/api/stream --profile ram-monitor: exit 0")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
            raise CheckError("ram-monitor did not exit within 10 s of SIGINT") from None


def check_page(base: str) -> None:
    """The page is served with Vue from the wheel: nothing from a CDN, nothing from npm."""
    status, _, page = fetch(base + "/")
    if status != 200 or f'"/vendor/{VUE}"' not in page or "setup-error" in page:
        raise CheckError(f"GET / is not the page with a local Vue (status {status})")
    if "https://" in page or "http://" in page:
        raise CheckError("the page refers to another host: it would not work offline")
    status, kind, vue = fetch(f"{base}/vendor/{VUE}")
    if status != 200 or "javascript" not in kind or "createApp" not in vue:
        raise CheckError(f"GET /vendor/{VUE} is not Vue (status {status}, {kind})")
    for path in ("/static/app.js", "/static/style.css"):
        status, _, _ = fetch(base + path)
        if status != 200:
            raise CheckError(f"GET {path} answered {status}")
    status, _, _ = fetch(base + "/", method="HEAD")
    if status != 200:
        raise CheckError(f"HEAD / answered {status}")
    log("the page, its files and Vue are served from the wheel (HEAD / 200)")


TOOLS = ("pipx", "uv")


@dataclass(frozen=True)
class ToolInstall:
    """How one tool installs the wheel: its command, its own folders, where the scripts land."""

    tool: str
    argv: list[str]
    env: dict[str, str]
    root: Path  # every folder the tool writes to is under it
    bin_dir: Path


def tool_install(tool: str, executable: str, wheel: Path, root: Path) -> ToolInstall:
    """The ``pipx install`` / ``uv tool install`` of ``wheel[reference]`` as the README shows it,
    with every folder the tool writes to (its venvs, its scripts, pipx's man pages) under ``root``.
    Raises CheckError for a tool it does not know."""
    spec = f"{wheel}[reference]"
    bin_dir = root / "bin"
    if tool == "pipx":
        env = {
            "PIPX_HOME": str(root / "home"),
            "PIPX_BIN_DIR": str(bin_dir),
            "PIPX_MAN_DIR": str(root / "man"),
        }
        argv = [executable, "install", "--python", sys.executable, spec]
    elif tool == "uv":
        env = {"UV_TOOL_DIR": str(root / "tools"), "UV_TOOL_BIN_DIR": str(bin_dir)}
        argv = [executable, "tool", "install", "--python", sys.executable, spec]
    else:
        raise CheckError(f"unknown tool {tool!r}: one of {', '.join(TOOLS)}")
    return ToolInstall(tool, argv, env, root, bin_dir)


def find_tool(tool: str) -> str:
    """The tool's executable on PATH; raises CheckError saying how to get it."""
    found = shutil.which(tool)
    if found is None:
        raise CheckError(f"{tool} is not on PATH: pip install {tool} (or leave it out of --tools)")
    return found


def check_tool_install(plan: ToolInstall, home: Path, version: str) -> None:
    """Install with the tool, then run both scripts and the suite against the reference it
    launches, all from ``home`` with the tool's scripts first on PATH; raises CheckError."""
    run(plan.argv, cwd=home, env=plan.env)
    label = plan.argv[1] if plan.tool == "pipx" else "tool install"
    log(f"{plan.tool} {label}: scripts in {plan.bin_dir}")
    for script in ("sse-conformance", "ram-monitor"):
        path = plan.bin_dir / script
        if not path.is_file():
            raise CheckError(f"{plan.tool} installed no {script} into {plan.bin_dir}")
        if not path.resolve().is_relative_to(plan.root):
            raise CheckError(f"{plan.tool}'s {script} is {path.resolve()}, outside {plan.root}")
        shown = run([str(path), "--version"], cwd=home, env=plan.env).strip()
        if shown != f"{script} {version}":
            raise CheckError(f"{plan.tool}'s {script} --version printed {shown!r}")
        log(f"{plan.tool}: {shown}")
    port = free_port()
    launch = f"{plan.bin_dir / 'ram-monitor'} --port {port} --interval 0.05 --access-log false"
    run(
        [
            str(plan.bin_dir / "sse-conformance"),
            f"http://127.0.0.1:{port}/api/stream",
            "--profile",
            "ram-monitor",
            "--interval",
            "0.05",
            "--launch",
            launch,
        ],
        cwd=home,
        timeout=120,
        env=plan.env,
    )
    log(f"{plan.tool}: sse-conformance --launch 'ram-monitor ...' --profile ram-monitor: exit 0")


def parse_tools(text: str) -> list[str]:
    """``pipx,uv`` -> ["pipx", "uv"]; ``none`` -> []; raises argparse.ArgumentTypeError."""
    if text.strip().lower() == "none":
        return []
    tools = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown or not tools:
        raise argparse.ArgumentTypeError(f"{text!r}: a comma-separated list of pipx, uv, or none")
    return tools


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument(
        "--tools",
        type=parse_tools,
        default=list(TOOLS),
        help="install the wheel as a tool with these too (default pipx,uv; none: the venv only)",
    )
    args = parser.parse_args()
    wheel = args.wheel.resolve()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wheel-check-") as tmp:
        home = Path(tmp)
        try:
            version = check_wheel_contents(wheel)
            log(f"{wheel.name}: files and metadata ok (version {version})")
            bin_dir = make_venv(home / "venv", wheel)
            log(f"installed into a fresh venv in {time.monotonic() - started:.0f} s")
            check_installed(bin_dir, home, version)
            for tool in args.tools:
                began = time.monotonic()
                plan = tool_install(tool, find_tool(tool), wheel, home / tool)
                check_tool_install(plan, home, version)
                log(f"{tool}: all good in {time.monotonic() - began:.0f} s")
        except (CheckError, subprocess.TimeoutExpired) as exc:
            log(f"FAILED: {exc}")
            return 1
    log(f"all good in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
