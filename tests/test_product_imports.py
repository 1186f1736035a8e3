"""The product (``conformance/``, ``reference/``) never imports the test side of the checkout.

The wheel ships ``conformance`` and ``reference`` only, so an import of ``testing``, ``tests``,
``e2e`` or ``bench`` from them works in a checkout and breaks for every installed user. The
imports are read from the source (every ``import`` statement, also inside functions and
``TYPE_CHECKING`` blocks), so a lazy import cannot hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("conformance", "reference")
TEST_SIDE = frozenset({"testing", "tests", "e2e", "bench"})


def imported_packages(source: str) -> set[str]:
    """The top-level package of every absolute import in ``source``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_scan_sees_lazy_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tests.x import y\n"
        "def f():\n    import testing.servers\n"
        "from . import sibling\n"
    )
    assert imported_packages(source) == {"typing", "tests", "testing"}


@pytest.mark.parametrize("package", PRODUCT)
def test_product_imports_nothing_from_the_test_side(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    offenders = {
        str(path.relative_to(ROOT)): sorted(used)
        for path in files
        if (used := imported_packages(path.read_text(encoding="utf-8")) & TEST_SIDE)
    }
    assert offenders == {}
