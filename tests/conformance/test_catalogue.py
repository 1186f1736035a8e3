"""The catalogue itself: stable, documented ids that a report can always explain."""

from __future__ import annotations

import re
from pathlib import Path

from conformance import checks
from conformance.models import Severity


def test_every_check_is_documented_and_cites_its_rule() -> None:
    specs = checks.all_checks()
    assert len({s.id for s in specs}) == len(specs)
    for spec in specs:
        assert re.fullmatch(r"[a-z]+\.[a-z0-9-]+", spec.id), spec.id
        assert spec.title, spec.id
        assert spec.spec.startswith("https://"), spec.id
        assert spec.doc, spec.id
        assert isinstance(spec.severity, Severity)
        assert spec.needs <= {
            "concurrent",
            "disconnect",
            "reconnect",
            "browser",
            "mcp",
            "graphql",
        }, spec.id
        assert spec.reads, f"{spec.id}: say which events and connections it reads (reads=)"


def test_order_is_by_area_whatever_the_import_order() -> None:
    areas = [s.id.split(".")[0] for s in checks.all_checks()]
    order = ("http", "framing", "payload", "stream", "reconnect", "browser")
    core = [a for a in areas if a in order]
    assert core == sorted(core, key=order.index)


def test_the_readme_catalogue_names_every_check() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [s.id for s in checks.all_checks() if f"`{s.id}`" not in readme]
    assert not missing, f"README.md's check catalogue lacks {missing}"


def test_order_does_not_depend_on_which_module_was_imported_first() -> None:
    import subprocess
    import sys

    script = (
        "import conformance.contracts.openai_responses\n"  # an area two modules share
        "from conformance import checks\n"
        "print(','.join(s.id for s in checks.all_checks()))\n"
    )
    early = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert early == ",".join(s.id for s in checks.all_checks())
