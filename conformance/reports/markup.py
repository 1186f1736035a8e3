"""One escaping rule for every HTML the reports write: markup escaped, and control characters
(ESC, BEL, DEL, C1: acted on by a terminal that ``cat``\\ s the file) shown as ``\\xNN``, as the
text report shows them (:func:`conformance.evidence.visible`)."""

from __future__ import annotations

import html

from conformance.evidence import visible


def escape(text: object) -> str:
    """``text`` as HTML text or attribute value, control characters made visible. Never raises."""
    return html.escape(visible(str(text)), quote=True)
