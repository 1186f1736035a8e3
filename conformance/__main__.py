"""``python -m conformance`` is ``sse-conformance``."""

import sys

from conformance.cli import main

sys.exit(main())
