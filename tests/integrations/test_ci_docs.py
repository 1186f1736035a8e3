"""docs/ci.md: every YAML block parses, and every suite command in it uses flags that exist."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from conformance.cli import build_parser
from testing.support import free_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def blocks() -> list[Any]:
    found = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(found) == 4, "expected the action, the GitHub workflow, the pytest step, GitLab"
    return [yaml.safe_load(text) for text in (*found[1:], found[0])]


def test_the_action_recipe_uses_real_inputs() -> None:
    action = yaml.safe_load((DOC.parent.parent / "action.yml").read_text(encoding="utf-8"))
    steps = blocks()[3]
    (use,) = (s for s in steps if s.get("id") == "sse")
    assert set(use["with"]) <= set(action["inputs"])
    assert "url" in use["with"]
    upload = steps[-1]
    assert upload["if"] == "always()"
    assert (
        upload["with"]["path"].removeprefix("${{ steps.sse.outputs.").rstrip(" }")
        in (action["outputs"])
    )


def commands(node: Any) -> list[str]:
    """Every shell line in a workflow/job (run: values, script: items)."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script") and isinstance(value, str):
                out.extend(value.splitlines())
            elif key == "script" and isinstance(value, list):
                out.extend(str(v) for v in value)
            else:
                out.extend(commands(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(commands(item))
    return out


def test_github_workflow_shape() -> None:
    workflow = blocks()[0]
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert len(upload) == 1
    assert upload[0]["if"] == "always()"  # reports of a failed run are published too
    assert upload[0]["with"]["path"] == "reports/"
    assert any("--launch" in line for line in commands(steps))


def test_gitlab_job_shape() -> None:
    job = blocks()[2]["sse-conformance"]
    assert job["services"][0]["alias"] == "app"
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == "reports/sse-junit.xml"
    assert "reports/" in artifacts["paths"]


def suite_commands() -> list[list[str]]:
    out = []
    for block in blocks():
        for line in commands(block):
            words = shlex.split(line)
            if words and words[0] == "sse-conformance":
                out.append(words[1:])
    return out


def test_cli_commands_use_real_flags() -> None:
    found = suite_commands()
    assert len(found) == 2
    parser = build_parser()
    for argv in found:
        args = parser.parse_args(argv)  # raises UsageError on an unknown flag
        assert args.junit_xml == "reports/sse-junit.xml"
        assert args.html_report == "reports/sse-report.html"
        assert args.json_report == "reports/sse-report.json"


def test_pytest_step_uses_real_options() -> None:
    from conformance import pytest_plugin

    known: set[str] = {"--junitxml", "-p"}

    class Group:
        def addoption(self, *names: str, **kwargs: Any) -> None:
            known.update(names)

    class Parser:
        def getgroup(self, *args: Any) -> Group:
            return Group()

        def addini(self, *args: Any, **kwargs: Any) -> None:
            pass

    pytest_plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    (step,) = blocks()[1]
    words = shlex.split(step["run"])
    assert words[:3] == ["python", "-m", "pytest"]
    flags = [w for w in words[3:] if w.startswith("-")]
    assert "--sse-url" in flags
    unknown = [f for f in flags if f not in known]
    assert unknown == []


def test_the_github_recipe_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's command, as written, against the reference (only faster and on a free port)."""
    from conformance.cli import main

    argv = next(a for a in suite_commands() if "--launch" in a)
    port = free_port()
    argv[0] = argv[0].replace(":8000", f":{port}")
    at = argv.index("--launch") + 1
    argv[at] = argv[at].replace("python ", f"{shlex.quote(sys.executable)} ") + " --interval 0.05"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    assert main([*argv, "--interval", "0.05"]) == 0
    for name in ("sse-junit.xml", "sse-report.html", "sse-report.json"):
        assert (tmp_path / "reports" / name).stat().st_size > 0


def test_the_browser_run_uses_real_flags() -> None:
    text = DOC.read_text(encoding="utf-8")
    (line,) = [
        w for w in text.splitlines() if w.startswith("sse-conformance ") and "--browser" in w
    ]
    args = build_parser().parse_args(shlex.split(line)[1:])
    assert args.browser is True
    assert args.origin == "https://app.example.com"
