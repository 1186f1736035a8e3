"""``python -m conformance.load URL [flags]``: the load mode without the suite's CLI."""

from __future__ import annotations

import sys

from conformance.load.cli import main

raise SystemExit(main(sys.argv[1:]))
