"""Load-mode flags: NaN, infinities and negatives are usage errors (one line, exit 2)."""

from __future__ import annotations

import pytest

from conformance.errors import LoadUsageError
from conformance.load.cli import build_parser, config_from_args, main

URL = "http://127.0.0.1:9/stream"
FLOATS = ["--ramp", "--duration", "--interval", "--timeout", "--p99-limit"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1"])
@pytest.mark.parametrize("flag", FLOATS)
def test_every_float_flag_refuses_nan_infinities_and_negatives(flag: str, value: str) -> None:
    args = build_parser().parse_args([URL, f"{flag}={value}"])
    with pytest.raises(LoadUsageError, match=flag):
        config_from_args(args)


def test_a_bad_flag_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([URL, "--timeout", "nan"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "--timeout" in err


@pytest.mark.parametrize("value", ["0", "-1", "65", "two"])
def test_bad_processes_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([URL, "--processes", value])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "--processes" in err
