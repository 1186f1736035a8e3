"""The launcher: ready when the URL answers, clear errors, and never a server left running."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from conformance.launch import LaunchError, endpoint_of, expand_command, launched
from testing.support import free_port

PY = shlex.quote(sys.executable)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def http_server_cmd() -> str:
    return f"{PY} -m http.server {{port}} --bind 127.0.0.1"


def test_url_placeholders_expand() -> None:
    url = "http://127.0.0.1:8123/api/stream"
    assert expand_command("serve --port {port} --host {host} # ${HOME} {url}", url) == (
        f"serve --port 8123 --host 127.0.0.1 # ${{HOME}} {url}"
    )
    assert endpoint_of("https://example.test/x").port == 443
    assert endpoint_of("http://example.test/x").port == 80
    with pytest.raises(LaunchError, match="http"):
        endpoint_of("ftp://example.test/")


def test_launches_waits_and_stops() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with launched(http_server_cmd(), url, ready_timeout=30) as server:
        assert httpx.get(url, timeout=5).status_code == 200
        pid = server.pid
    assert server.returncode is not None
    assert not server.killed  # http.server stops on SIGTERM
    assert wait_dead(pid)
    assert not listening(port)
    assert "GET / HTTP/1.1" in server.output()  # output kept for the report


def test_never_ready_times_out_with_last_output() -> None:
    port = free_port()
    cmd = f"{PY} -c \"import time; print('booting slowly', flush=True); time.sleep(60)\""
    started = time.monotonic()
    with (
        pytest.raises(LaunchError) as caught,
        launched(cmd, f"http://127.0.0.1:{port}/", ready_timeout=1.0, grace=1.0),
    ):
        pytest.fail("must not become ready")
    message = str(caught.value)
    assert "did not answer within 1 s" in message
    assert "booting slowly" in message
    assert "--ready-timeout" in message
    assert time.monotonic() - started < 15


def test_command_that_exits_at_once() -> None:
    port = free_port()
    cmd = f"{PY} -c \"import sys; print('no such config', file=sys.stderr); sys.exit(3)\""
    with pytest.raises(LaunchError) as caught, launched(cmd, f"http://127.0.0.1:{port}/"):
        pytest.fail("must not become ready")
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "no such config" in message


def test_stopped_when_the_block_raises() -> None:
    port = free_port()
    pids: list[int] = []

    def crash() -> None:
        with launched(http_server_cmd(), f"http://127.0.0.1:{port}/") as server:
            pids.append(server.pid)
            raise RuntimeError("suite crashed")

    with pytest.raises(RuntimeError, match="suite crashed"):
        crash()
    assert wait_dead(pids[0])
    assert not listening(port)


def test_keyboard_interrupt_stops_it() -> None:
    port = free_port()
    pids: list[int] = []

    def interrupted() -> None:
        with launched(http_server_cmd(), f"http://127.0.0.1:{port}/") as server:
            pids.append(server.pid)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert wait_dead(pids[0])
    assert not listening(port)


def test_sigkill_after_grace_when_sigterm_is_ignored() -> None:
    port = free_port()
    script = textwrap.dedent(
        """
        import signal, socket, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
        while True:
            time.sleep(1)
        """
    )
    cmd = f"{PY} -c {shlex.quote(script)} {{port}}"
    with launched(cmd, f"http://127.0.0.1:{port}/", grace=0.5) as server:
        pid = server.pid
    assert server.killed
    assert wait_dead(pid)
    assert not listening(port)


def test_children_of_a_shell_wrapper_are_stopped_too() -> None:
    """A `cmd &` wrapper leaves the real server in the group: it must go as well."""
    port = free_port()
    cmd = f"echo starting; {http_server_cmd()} & wait"
    with launched(cmd, f"http://127.0.0.1:{port}/") as server:
        assert listening(port)
    assert server.returncode is not None
    deadline = time.monotonic() + 10
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not listening(port)


def test_refuses_a_port_that_is_already_taken() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with (
            pytest.raises(LaunchError, match="already listens"),
            launched(http_server_cmd(), f"http://127.0.0.1:{port}/"),
        ):
            pytest.fail("must not launch")


def test_ready_url_must_answer_http() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/stream"
    with launched(http_server_cmd(), url, ready_url=f"http://127.0.0.1:{port}/") as server:
        assert server.returncode is None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_launching_process_killed_by_a_signal_stops_the_server(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C (SIGINT) or a CI cancel (SIGTERM) of the process that launched: no orphan.

    The driver restores SIGINT's default handler: started as a background job of a
    non-interactive shell (how a whole nox run may be started), a process inherits SIGINT
    *ignored*, Python then installs no KeyboardInterrupt handler, and the SIGINT case hung for
    its 15 s (the flake). A Ctrl-C always comes from a terminal, where SIGINT is not ignored.
    """
    port = free_port()
    driver = tmp_path / "driver.py"
    driver.write_text(
        textwrap.dedent(
            f"""
            import signal, sys, time
            signal.signal(signal.SIGINT, signal.default_int_handler)
            from conformance.launch import launched
            with launched({http_server_cmd()!r}, "http://127.0.0.1:{port}/") as server:
                print(server.pid, flush=True)
                time.sleep(60)
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, str(driver)],
        stdout=subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert proc.stdout is not None
        server_pid = int(proc.stdout.readline())
        assert listening(port)
        proc.send_signal(sig)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
    assert wait_dead(server_pid)
    assert not listening(port)


def test_cli_launch_failure_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    port = free_port()
    cmd = f"{PY} -c \"print('port in use, giving up'); raise SystemExit(4)\""
    code = main([f"http://127.0.0.1:{port}/api/stream", "--launch", cmd])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "exited with code 4" in err
    assert "port in use, giving up" in err
    assert "Traceback" not in err


def test_the_quoted_output_is_a_few_short_escaped_lines() -> None:
    """A server that dies printing a flood (long lines, terminal escapes) is quoted in at most
    5 lines of at most 200 characters, control characters escaped as the text report does."""
    port = free_port()
    script = (
        "import sys\n"
        "for i in range(30): print('line', i, flush=True)\n"
        "print('\\x1b[2J\\x07bell' + 'x' * 5000, flush=True)\n"
        "sys.exit(3)\n"
    )
    cmd = f"{PY} -c {shlex.quote(script)}"
    with pytest.raises(LaunchError) as caught, launched(cmd, f"http://127.0.0.1:{port}/"):
        pytest.fail("must not become ready")
    message = str(caught.value)
    quoted = message.split("its last output:\n", 1)[1].splitlines()
    assert len(quoted) == 5, quoted
    assert quoted[0].strip() == "line 26"
    assert all(len(line.strip()) <= 201 for line in quoted), [len(q) for q in quoted]
    assert "\x1b" not in message
    assert "\x07" not in message
    assert quoted[-1].strip().startswith("\\x1b[2J\\x07bell")
    assert quoted[-1].rstrip().endswith("…")
