"""What the browser tests import by name: the deployment under test, the browser's reports, waits.

The fixtures that build them live in ``e2e/conftest.py``; tests import the types from here, never
from the conftest or from each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, Request

from e2e.servers import ServedApp, TrafficRecorder
from e2e.ui import PageConfig

# Chromium waits about 3 s before reconnecting an EventSource whose stream ended (the reference
# sends no `retry:` field); watching longer than that shows whether the page let it reconnect.
RECONNECT_WAIT_S = 4.0


@dataclass
class PageTarget:
    """The deployment under test: its URL, its config, and (when we own it) what it saw."""

    base_url: str
    config: PageConfig
    served: ServedApp | None

    @property
    def traffic(self) -> TrafficRecorder | None:
        return self.served.traffic if self.served else None


class BrowserWatch:
    """Everything the browser reported while a test ran: console errors, failures, requests."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.error_responses: list[str] = []
        self.requests: list[Request] = []
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.aborted: list[Request] = []
        self.finished: list[Request] = []
        page.on("requestfailed", self._failed)
        page.on("requestfinished", lambda r: self.finished.append(r))
        page.on(
            "response",
            lambda r: (
                self.error_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None
            ),
        )
        page.on("request", lambda r: self.requests.append(r))

    def _failed(self, request: Request) -> None:
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")
        self.aborted.append(request)

    def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        """Let the browser's events come in (they arrive only inside Playwright calls)."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() >= deadline:
                return False
            self._page.wait_for_timeout(50)
        return True

    def stream_requests(self) -> list[Request]:
        return [r for r in self.requests if r.url.split("?")[0].endswith("/api/stream")]
