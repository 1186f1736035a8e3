"""The layout stays as issue 9 left it: no import circle, small modules, product apart from tests.

Imports are read from the source (AST), so an import under ``TYPE_CHECKING`` or inside a function
counts as much as one at the top: each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("conformance", "reference")
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def imported(name: str, path: Path, known: Collection[str] = ()) -> Iterator[str]:
    """Every module ``name`` imports, by absolute name, wherever the import statement is.

    ``from a import b`` is an edge to the module a.b when a.b is one of ``known`` (a package
    handing out its submodule is no dependency on the package's own code), else to a.
    """
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                yield full if full in known else source


def import_graph(package: str) -> dict[str, set[str]]:
    known = modules(package)
    return {
        name: {t for t in imported(name, path, known) if t in known and t != name}
        for name, path in known.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_circle_and_accepts_a_tree() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_relative_and_from_imports_are_resolved(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
        "import x.y.z\nif TYPE_CHECKING:\n    from .sibling import Thing\n"
        "def f() -> None:\n    from pkg import sub\n",
        encoding="utf-8",
    )
    found = set(imported("pkg.mod", source, known={"pkg.sub"}))
    assert {"x.y.z", "pkg.sibling", "pkg.sub"} <= found
    assert "pkg" not in found  # from pkg import sub: the submodule, not the package's code


def test_no_import_circle_in_conformance() -> None:
    cycle = find_cycle(import_graph("conformance"))
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_no_module_of_the_suite_is_over_600_lines() -> None:
    long = {
        name: lines
        for name, path in modules("conformance").items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_product_never_imports_the_tests(package: str) -> None:
    bad = {
        name: sorted(t for t in imported(name, path) if t.split(".")[0] in ("tests", "testing"))
        for name, path in modules(package).items()
    }
    assert not {k: v for k, v in bad.items() if v}


def test_generic_checks_never_import_a_contract() -> None:
    bad = {
        name: sorted(
            t for t in imported(name, path) if t.split(".")[:2] == ["conformance", "contracts"]
        )
        for name, path in modules("conformance").items()
        if name.startswith("conformance.checks")
    }
    assert not {k: v for k, v in bad.items() if v}


def test_generic_check_modules_name_no_contract() -> None:
    """The contracts plug in through the registry: a generic check module that spelled a contract's
    name (or its constants) would be judging that contract behind the profile's back."""
    words = ("ram-monitor", "ram_monitor", "openai", "RAM monitoring")
    for name, path in modules("conformance").items():
        if name.startswith("conformance.checks.") and name != "conformance.checks.registry":
            text = path.read_text(encoding="utf-8")
            assert not [w for w in words if w in text], name


@pytest.mark.parametrize(
    "module",
    ["conformance", "conformance.capture.model", "conformance.profiles", "conformance.checks"],
)
def test_importing_the_model_does_not_load_httpx(module: str) -> None:
    code = f"import sys, {module}; print('httpx' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "False", f"import {module} loads httpx"


def test_the_public_surface_is_declared() -> None:
    import conformance

    expected = {
        "run_suite",
        "run_suite_sync",
        "load_profile",
        "Parser",
        "Event",
        "Report",
        "Result",
        "Verdict",
    }
    assert set(conformance.__all__) == expected
    for name in expected:
        assert getattr(conformance, name) is not None
