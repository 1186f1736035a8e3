"""Build hook: put Vue's browser build (from the npm package, never from git) into the wheel.

The reference page imports Vue from ``/vendor/vue.esm-browser.prod.js``. In a checkout that file
is ``node_modules/vue/dist/...`` (``npm ci``); an installed wheel has no node_modules, so the
wheel carries a copy at ``reference/vendor/`` with Vue's LICENSE beside it, and ``ram-monitor``
serves a working page offline on a machine without Node. The sdist carries the same two files,
so a wheel built from the sdist needs no npm either.

Where the copy comes from, first found: ``reference/vendor/`` (an unpacked sdist),
``node_modules/vue/`` (a checkout after ``npm ci``), else ``npm ci`` is run here. With none of
them the build stops with one line saying what to install.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VUE_FILE = "vue.esm-browser.prod.js"
LICENSE_FILE = "LICENSE-vue"
PACKAGED = Path("reference") / "vendor"


class VueBuildHook(BuildHookInterface):
    """Adds ``reference/vendor/{vue.esm-browser.prod.js,LICENSE-vue}`` to the sdist and wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        vue, license_file = self._find_vue(Path(self.root))
        build_data["force_include"][str(vue)] = str(PACKAGED / VUE_FILE)
        build_data["force_include"][str(license_file)] = str(PACKAGED / LICENSE_FILE)

    def _find_vue(self, root: Path) -> tuple[Path, Path]:
        packaged = root / PACKAGED
        if (packaged / VUE_FILE).is_file() and (packaged / LICENSE_FILE).is_file():
            return packaged / VUE_FILE, packaged / LICENSE_FILE
        package = root / "node_modules" / "vue"
        if not (package / "dist" / VUE_FILE).is_file():
            npm = shutil.which("npm")
            if npm is None:
                # SystemExit: one line for the user, not a traceback from inside the backend.
                raise SystemExit(
                    "sse-conformance-kit build: Vue's browser build is needed for the wheel and "
                    "npm is missing: install Node.js + npm (or run `npm ci`), then build again"
                )
            self.app.display_info("sse-conformance-kit build: npm ci (Vue for the reference page)")
            subprocess.run(
                [
                    npm,
                    "ci",
                    "--no-audit",
                    "--no-fund",
                ],
                cwd=root,
                check=True,
            )
        return package / "dist" / VUE_FILE, package / "LICENSE"
