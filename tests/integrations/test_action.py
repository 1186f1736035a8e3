"""action.yml: its shape, and its shell steps run here as GitHub would run them, against the reference.

GitHub runs a composite action's ``run:`` steps with ``bash -eo pipefail``, after replacing the
``${{ ... }}`` expressions of their ``env:``; outputs are ``key=value`` lines appended to the file
named by ``$GITHUB_OUTPUT``. This test does the same (the ``uses:`` step, setup-python, is the
interpreter running these tests), so the commands the users' CI will run are the ones tested.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from testing.support import free_port

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([a-z_.-]+)\s*\}\}")


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


def test_action_shape() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert {"url", "profile", "launch", "args", "python-version"} <= set(spec["inputs"])
    assert spec["inputs"]["url"]["required"] is True
    assert set(spec["outputs"]) >= {"junit", "html", "json"}
    for output in spec["outputs"].values():
        assert output["value"].startswith("${{ steps.run.outputs.")
    steps = spec["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    for step in steps[1:]:
        assert step["shell"] == "bash"
        # Inputs reach the shell through env only, never pasted into the script (injection).
        assert "${{" not in step["run"], step["name"]


def resolve(
    text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]], temp: Path
) -> str:
    def one(match: re.Match[str]) -> str:
        scope, _, rest = match.group(1).partition(".")
        if scope == "inputs":
            return inputs[rest]
        if scope == "github" and rest == "action_path":
            return str(ROOT)
        if scope == "runner" and rest == "temp":
            return str(temp)
        if scope == "steps":
            step, _, key = rest.partition(".outputs.")
            return outputs.get(step, {}).get(key, "")
        raise AssertionError(f"unknown expression {match.group(0)}")

    return EXPRESSION.sub(one, text)


def run_steps(
    inputs: dict[str, str],
    temp: Path,
    workspace: Path,
    only: set[str] | None = None,
    earlier: dict[str, dict[str, str]] | None = None,
) -> tuple[int, dict[str, dict[str, str]]]:
    """Run the action's shell steps in order (``only`` those ids, with the ``earlier`` steps'
    outputs); returns the exit code of the last one run and the outputs by step id."""
    spec = action()
    values = {name: str(i.get("default", "")) for name, i in spec["inputs"].items()} | inputs
    outputs: dict[str, dict[str, str]] = dict(earlier or {})
    code = 0
    for step in spec["runs"]["steps"]:
        if "run" not in step or (only is not None and step["id"] not in only):
            continue
        output_file = temp / f"output-{step['id']}"
        output_file.write_text("")
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(output_file),
        }
        for name, value in step.get("env", {}).items():
            env[name] = resolve(str(value), values, outputs, temp)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=env,
            timeout=300,
        )
        code = done.returncode
        lines = output_file.read_text().splitlines()
        outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
        if code != 0:
            break
    return code, outputs


@pytest.mark.slow
def test_action_steps_run_against_the_reference(tmp_path: Path) -> None:
    """Installs the kit from this checkout into a fresh venv (as the action does), judges the
    launched reference (exit 0, three reports, outputs), then a web page (the step fails)."""
    temp, workspace = tmp_path / "runner-temp", tmp_path / "workspace"
    temp.mkdir()
    workspace.mkdir()
    port = free_port()
    inputs = {
        "url": f"http://127.0.0.1:{port}/api/stream",
        "profile": "ram-monitor",
        "launch": "python -m reference --host {host} --port {port} --interval 0.05",
        "args": "--interval 0.05 --ready-timeout 60",
        "extras": "reference",
    }
    code, outputs = run_steps(inputs, temp, workspace)
    assert code == 0
    result = outputs["run"]
    assert result["exit-code"] == "0"
    for key in ("junit", "html", "json"):
        assert (workspace / result[key]).stat().st_size > 0
    cases = ET.parse(workspace / result["junit"]).getroot().iter("testcase")
    assert len(list(cases)) > 10

    # The same step against the reference's page (text/html, not a stream): the step fails.
    code, outputs = run_steps(
        {**inputs, "url": f"http://127.0.0.1:{port}/", "args": "--ready-timeout 60"},
        temp,
        workspace,
        only={"run"},
        earlier=outputs,
    )
    assert code == 1
    assert outputs["run"]["exit-code"] == "1"
