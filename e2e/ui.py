"""What a person sees on the RAM monitor page, in the words of the page's test hooks.

The page's contract (see the README's reference section): a Start and a Stop button, a status
element whose ``data-status`` names the state and whose text says it in words, a log region with
one ``log-line`` per message, an alert region for errors, and an SVG chart with one point per
sample. Locators live here so that a change of the contract is one edit.

:data:`TIMELINE_SCRIPT` runs in the page before its own scripts and writes down every change of
the status, the line count and the Start button, with a timestamp. Polling from the test cannot
see states that last a few milliseconds (connecting, the first lines at a fast interval); the
page's own MutationObserver callbacks see every DOM update Vue makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Locator, Page

STATUSES = ("idle", "connecting", "streaming", "completed", "stopped", "error")
GREETING = "Starting system RAM monitoring..."
SAMPLE_LINE = re.compile(
    r"^(?P<stamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) - RAM usage: "
    r"(?P<percent>\d+(?:\.\d+)?)% \((?P<used>\d+\.\d{2})GB / (?P<total>\d+\.\d{2})GB\)$"
)

TIMELINE_SCRIPT = """
(() => {
  const t0 = performance.now();
  const timeline = [];
  let last = null;
  const snap = () => {
    const status = document.querySelector('[data-testid="status"]');
    const start = document.querySelector('[data-testid="start"]');
    const entry = {
      status: status ? status.getAttribute('data-status') : null,
      text: status ? status.textContent.trim() : null,
      lines: document.querySelectorAll('[data-testid="log-line"]').length,
      startDisabled: start ? start.disabled : null,
    };
    if (last && last.status === entry.status && last.text === entry.text &&
        last.lines === entry.lines && last.startDisabled === entry.startDisabled) return;
    last = entry;
    timeline.push({ t: (performance.now() - t0) / 1000, ...entry });
  };
  window.__e2eTimeline = timeline;
  new MutationObserver(snap).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
})();
"""


@dataclass(frozen=True)
class Snapshot:
    t: float  # seconds since the page started loading
    status: str | None
    text: str | None
    lines: int
    start_disabled: bool | None


@dataclass(frozen=True)
class PageConfig:
    """What GET /api/config says a run looks like; the page shows the same numbers."""

    samples: int
    interval: float
    total_messages: int
    sentinel: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageConfig:
        return cls(
            samples=int(data["samples"]),
            interval=float(data["interval"]),
            total_messages=int(data["total_messages"]),
            sentinel=str(data["sentinel"]),
        )

    @property
    def run_seconds(self) -> float:
        """A generous bound on one run: every interval, plus slack for a loaded machine."""
        return self.total_messages * self.interval * 2 + 10


def check_sample(text: str) -> str | None:
    """Why ``text`` is not a well-formed sample line, or None when it is."""
    match = SAMPLE_LINE.match(text)
    if match is None:
        return f"not a sample line: {text!r}"
    percent = float(match["percent"])
    used, total = float(match["used"]), float(match["total"])
    if not 0 <= percent <= 100:
        return f"percent out of range in {text!r}"
    if total <= 0:
        return f"total must be positive in {text!r}"
    # used is printed from total * percent / 100, each rounded to 2 decimals: allow that rounding.
    if abs(used - total * percent / 100) > 0.011:
        return f"used != total * percent / 100 in {text!r}"
    return None


class MonitorPage:
    """The page's parts, found by their ``data-testid`` hooks."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.start: Locator = page.get_by_test_id("start")
        self.stop: Locator = page.get_by_test_id("stop")
        self.status: Locator = page.get_by_test_id("status")
        self.log: Locator = page.get_by_test_id("log")
        self.lines: Locator = page.get_by_test_id("log-line")
        self.error_lines: Locator = page.locator(".log-line.log-error")
        self.alert: Locator = page.get_by_test_id("error")
        self.chart: Locator = page.get_by_test_id("chart")
        self.points: Locator = page.get_by_test_id("chart-point")

    def open(self, url: str = "/") -> None:
        """Load the page and wait until Vue has rendered it in its idle state."""
        self.page.goto(url)
        self.page.wait_for_selector('[data-testid="status"][data-status="idle"]')

    def wait_for_run_end(self, timeout_s: float) -> str:
        """Wait until the run ends, however it ends, and return the final status.

        Waiting for "completed" alone would make a broken page cost the whole timeout before the
        test fails; waiting for any end state fails it as soon as the page gives up.
        """
        ends = ",".join(
            f'[data-testid="status"][data-status="{s}"]' for s in ("completed", "stopped", "error")
        )
        self.page.wait_for_selector(ends, timeout=timeout_s * 1000)
        return str(self.status.get_attribute("data-status"))

    def expect_completed(self, timeout_s: float) -> None:
        status = self.wait_for_run_end(timeout_s)
        text = (self.status.text_content() or "").strip()
        assert status == "completed", f"the run ended as {status!r} ({text!r}), not completed"

    def line_texts(self) -> list[str]:
        return [text.strip() for text in self.lines.all_text_contents()]

    def timeline(self) -> list[Snapshot]:
        raw = self.page.evaluate("window.__e2eTimeline || []")
        return [
            Snapshot(e["t"], e["status"], e["text"], e["lines"], e["startDisabled"]) for e in raw
        ]

    def statuses_seen(self) -> list[str | None]:
        """Every status the page went through, consecutive repeats collapsed."""
        seen: list[str | None] = []
        for snap in self.timeline():
            if not seen or seen[-1] != snap.status:
                seen.append(snap.status)
        return seen

    def scroll_state(self) -> dict[str, float]:
        return dict(
            self.log.evaluate(
                "el => ({top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight})"
            )
        )
