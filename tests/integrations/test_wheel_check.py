"""testing/wheel_check.py's tool installs: pipx and uv as the README shows them, in folders of
their own (nothing global changes), and scripts that really come from those folders."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import pytest

from testing.wheel_check import (
    TOOLS,
    CheckError,
    ToolInstall,
    check_tool_install,
    find_tool,
    parse_tools,
    tool_install,
)

README = Path(__file__).resolve().parents[2] / "README.md"
WHEEL = Path("/dist/sse_conformance_kit-0.1.0-py3-none-any.whl")


@pytest.mark.parametrize("tool", TOOLS)
def test_a_tool_writes_only_under_its_own_folder(tool: str, tmp_path: Path) -> None:
    plan = tool_install(tool, f"/opt/{tool}", WHEEL, tmp_path / tool)
    assert plan.root == tmp_path / tool
    assert plan.bin_dir.is_relative_to(plan.root)
    expected_keys = (
        {"PIPX_HOME", "PIPX_BIN_DIR", "PIPX_MAN_DIR"}
        if tool == "pipx"
        else {"UV_TOOL_DIR", "UV_TOOL_BIN_DIR"}
    )
    assert set(plan.env) == expected_keys
    assert all(Path(value).is_relative_to(plan.root) for value in plan.env.values())
    assert plan.argv[0] == f"/opt/{tool}"
    assert f"{WHEEL}[reference]" in plan.argv


def test_the_tool_installs_are_the_readmes() -> None:
    # README: `pipx install 'dist/...whl[reference]'` and `uv tool install '...[reference]'`.
    text = README.read_text(encoding="utf-8")
    shown = {
        m["tool"]: m["verb"]
        for m in re.finditer(
            r"^(?P<tool>pipx|uv) (?P<verb>install|tool install) '(?P<spec>[^']+)'", text, re.M
        )
        if m["spec"].endswith(".whl[reference]")
    }
    assert shown == {"pipx": "install", "uv": "tool install"}
    for tool, verb in shown.items():
        argv = tool_install(tool, tool, WHEEL, Path("/tmp/x")).argv
        assert " ".join(argv[1 : 1 + len(verb.split())]) == verb


def test_parse_tools() -> None:
    assert parse_tools("pipx,uv") == ["pipx", "uv"]
    assert parse_tools(" uv ") == ["uv"]
    assert parse_tools("none") == []
    for bad in ("pip", "", "uv,conda"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_tools(bad)
    with pytest.raises(CheckError, match="unknown tool"):
        tool_install("conda", "conda", WHEEL, Path("/tmp/x"))


def test_a_missing_tool_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CheckError, match=r"^pipx is not on PATH: pip install pipx"):
        find_tool("pipx")


def fake_plan(root: Path) -> ToolInstall:
    """A tool whose "install" does nothing: the test lays out its bin folder itself."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    return ToolInstall("uv", [sys.executable, "-c", "pass"], {}, root, bin_dir)


def test_a_script_from_outside_the_tools_folder_is_caught(tmp_path: Path) -> None:
    # A tool that linked the scripts of another install (or a global one) proves nothing.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = elsewhere / "sse-conformance"
    script.write_text("#!/bin/sh\necho sse-conformance 0.1.0\n")
    script.chmod(0o755)
    plan = fake_plan(tmp_path / "uv")
    os.symlink(script, plan.bin_dir / "sse-conformance")
    with pytest.raises(CheckError, match="outside"):
        check_tool_install(plan, tmp_path, "0.1.0")


def test_a_missing_script_is_caught(tmp_path: Path) -> None:
    plan = fake_plan(tmp_path / "uv")
    with pytest.raises(CheckError, match="installed no sse-conformance"):
        check_tool_install(plan, tmp_path, "0.1.0")


def test_a_wrong_version_is_caught(tmp_path: Path) -> None:
    plan = fake_plan(tmp_path / "uv")
    script = plan.bin_dir / "sse-conformance"
    script.write_text("#!/bin/sh\necho sse-conformance 9.9\n")
    script.chmod(0o755)
    with pytest.raises(CheckError, match=re.escape("--version printed 'sse-conformance 9.9'")):
        check_tool_install(plan, tmp_path, "0.1.0")
