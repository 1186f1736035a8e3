"""The noxfile's test sessions install what their pytest flags need.

``nox -s tests`` runs pytest on two workers (``-n 2``, pytest-xdist): most tests wait on real
loopback servers rather than compute, so two workers halve the wall time on two cores. ``-n`` is
an error without the plugin, so the extras the session installs must bring it; ``nox -s slow``
runs without ``-n`` and must keep working whether or not the plugin is there.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def session_calls(name: str) -> dict[str, list[list[str]]]:
    """The string arguments of every ``session.install`` and ``session.run`` call in the noxfile
    session ``name``, by method. Raises AssertionError when there is no such session."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    (function,) = (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    calls: dict[str, list[list[str]]] = {"install": [], "run": []}
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in calls
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
        ):
            args = [a.value if isinstance(a, ast.Constant) else "<expr>" for a in node.args]
            calls[node.func.attr].append([str(a) for a in args])
    return calls


def installed_requirements(install_args: list[str]) -> set[str]:
    """The distribution names that ``pip install -e .[extra,...]`` pulls in from pyproject."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    (spec,) = (a for a in install_args if a.startswith(".["))
    todo = spec.removeprefix(".[").removesuffix("]").split(",")
    names: set[str] = set()
    while todo:
        for requirement in extras[todo.pop()]:
            name = re.split(r"[\[<>=;~! ]", requirement, maxsplit=1)[0].lower()
            if name == "sse-conformance-kit":
                todo.extend(requirement.split("[", 1)[1].split("]", 1)[0].split(","))
            else:
                names.add(name)
    return names


def test_the_tests_session_runs_two_workers_and_installs_xdist() -> None:
    calls = session_calls("tests")
    (pytest_run,) = (args for args in calls["run"] if args[0] == "pytest")
    assert pytest_run[1:3] == ["-n", "2"]  # before the posargs: `nox -s tests -- -n 0` wins
    (install,) = calls["install"]
    assert "pytest-xdist" in installed_requirements(install)


def test_the_slow_session_runs_in_one_process() -> None:
    (pytest_run,) = (args for args in session_calls("slow")["run"] if args[0] == "pytest")
    assert "-n" not in pytest_run
