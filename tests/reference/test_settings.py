"""Settings from flags and RAM_MONITOR_* variables; bad values are one line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reference.__main__ import main
from reference.settings import ConfigError, Settings, env_name, parse_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_bind_loopback_with_the_contract_numbers() -> None:
    settings = parse_settings([], {})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.interval, settings.samples) == (
        "127.0.0.1",
        8000,
        1.0,
        20,
    )
    assert settings.total_messages == 22
    assert settings.max_streams >= 1000
    assert (settings.static_dir / "index.html").is_file()


def test_flags_and_environment() -> None:
    settings = parse_settings(
        ["--port", "9001", "--samples", "3", "--max-streams", "7", "--interval", "0.5"],
        {
            "RAM_MONITOR_SAMPLES": "9",
            "RAM_MONITOR_SEND_TIMEOUT": "2.5",
            "RAM_MONITOR_ACCESS_LOG": "off",
        },
    )
    assert settings.port == 9001
    assert settings.samples == 3  # the flag wins over the variable
    assert settings.max_streams == 7
    assert settings.interval == 0.5
    assert settings.send_timeout == 2.5
    assert settings.access_log is False


def test_every_field_has_an_environment_variable() -> None:
    environ = {
        env_name("host"): "::1",
        env_name("port"): "1234",
        env_name("interval"): "0.25",
        env_name("samples"): "4",
        env_name("max_streams"): "10",
        env_name("send_timeout"): "1",
        env_name("queue_size"): "2",
        env_name("shutdown_timeout"): "0.5",
        env_name("static_dir"): str(ROOT / "reference" / "static"),
        env_name("vue_dir"): "/nowhere",
        env_name("log_level"): "WARNING",
        env_name("access_log"): "yes",
    }
    settings = parse_settings([], environ)
    assert env_name("max_streams") == "RAM_MONITOR_MAX_STREAMS"
    assert settings.host == "::1"
    assert settings.port == 1234
    assert settings.queue_size == 2
    assert settings.shutdown_timeout == 0.5
    assert settings.vue_dir == Path("/nowhere")
    assert settings.log_level == "warning"


@pytest.mark.parametrize(
    ("argv", "environ", "needle"),
    [
        (["--interval", "-1"], {}, "interval must be"),
        (["--interval", "0"], {}, "interval must be"),
        (["--interval", "nan"], {}, "--interval: invalid value 'nan'"),
        (["--interval", "fast"], {}, "--interval: invalid value 'fast'"),
        (["--samples", "0"], {}, "samples must be"),
        (["--port", "70000"], {}, "port must be"),
        (["--port", "http"], {}, "--port: invalid value"),
        (["--max-streams", "0"], {}, "max-streams must be"),
        (["--log-level", "loud"], {}, "log-level must be one of"),
        (["--static-dir", "/definitely/not/here"], {}, "is not a directory"),
        (["--frobnicate"], {}, "unrecognized arguments: --frobnicate"),
        (["--port"], {}, "expected one argument"),
        ([], {"RAM_MONITOR_INTERVAL": "-2"}, "interval must be"),
        ([], {"RAM_MONITOR_PORT": "eighty"}, "RAM_MONITOR_PORT: invalid value 'eighty'"),
        ([], {"RAM_MONITOR_ACCESS_LOG": "maybe"}, "RAM_MONITOR_ACCESS_LOG: invalid value"),
    ],
)
def test_bad_values_raise_one_line(argv: list[str], environ: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(argv, environ)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_main_prints_one_line_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--samples", "-3"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("ram-monitor: error: samples must be")


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["--bogus"], {}), ([], {"RAM_MONITOR_PORT": "0"})],
)
def test_real_process_exits_2_without_traceback(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ram-monitor: error: ")
    assert "Traceback" not in result.stderr


def test_help_lists_flags_and_variables() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 0
    for flag in ("--host", "--port", "--interval", "--samples", "--max-streams", "--send-timeout"):
        assert flag in result.stdout
    assert "RAM_MONITOR_" in result.stdout


def test_port_in_use_is_one_error_line_and_exit_3() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "reference", "--port", str(port), "--log-level", "warning"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
    assert result.returncode == 3  # uvicorn's startup-failure code
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_inbox_spans_the_send_timeout_unless_set() -> None:
    # A stream is dropped as "slow" no sooner than a blocked send would be, within a memory bound.
    assert Settings().inbox_size == 6  # 5 s at 1 s
    assert Settings(interval=0.05).inbox_size == 101
    assert Settings(interval=0.001).inbox_size == 256
    assert Settings(interval=60).inbox_size == 4
    assert Settings(queue_size=2).inbox_size == 2
