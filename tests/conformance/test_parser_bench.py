"""The throughput benchmark runs, compares like with like, and rejects bad input cleanly."""

from __future__ import annotations

import pytest

from bench.parser_throughput import ENDINGS, main, run_httpx_sse, run_ours, typical_stream


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_both_parsers_agree_on_the_benchmark_stream(ending: str) -> None:
    data, expected = typical_stream(0.05, ENDINGS[ending])
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    ours, theirs = run_ours(chunks), run_httpx_sse(chunks)
    assert ours.events == theirs.events == expected
    assert (ours.first, ours.last) == (theirs.first, theirs.last)
    assert ours.last[1] == str(expected)  # ids are 1..N


def test_main_prints_a_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mb", "0.05", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "MB/s" in out
    assert "ratio" in out


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mb", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
