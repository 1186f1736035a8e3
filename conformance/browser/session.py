"""The real-browser run: one native ``EventSource`` in headless Chromium, driven through
Playwright's async API in the suite's own event loop (so it runs alongside the main capture).

Playwright is imported here only, lazily: without the ``[browser]`` extra, or without a Chromium,
:func:`chromium_page` raises :class:`BrowserUnavailable` (a usage error: exit 2, one line).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from conformance.browser.chromium import LAUNCH_ARGS, SUITE_ARGS, BrowserNotFound, find_chromium
from conformance.browser.model import (
    BrowserEvent,
    BrowserOptions,
    BrowserRun,
    ClosedBy,
    StateChange,
)
from conformance.browser.page import (
    BINDING,
    CLOSE_SCRIPT,
    PAGE_HTML,
    START_SCRIPT,
    page_url,
)
from conformance.errors import UsageError, one_line
from conformance.origins import origin_of

if TYPE_CHECKING:
    from playwright.async_api import Browser, CDPSession, Page, Route

INSTALL_HINT = (
    "--browser needs Playwright: pip install 'sse-conformance-kit[browser]' "
    "(and a Chromium: apt-get install -y chromium, or playwright install chromium)"
)
LAUNCH_TIMEOUT = 30.0  # seconds Chromium may take to start
PAGE_TIMEOUT = 10.0  # seconds for the (intercepted) page to load
SETTLE = 0.2  # after the source is closed: let the last console message and body bytes land
GRACE = 2.0  # after the main capture ended: how long Chromium may take to see the end too


class BrowserUnavailable(UsageError):
    """No Playwright, no Chromium, or a Chromium that does not start: one printable line."""


@contextlib.asynccontextmanager
async def chromium_page(options: BrowserOptions, target: str) -> AsyncIterator[ChromiumPage]:
    """Launch headless Chromium with the page loaded at the page's origin, ready to open
    ``target``; closes the browser on exit.

    Raises BrowserUnavailable (Playwright missing, no Chromium found, launch or page load failed).
    """
    try:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright
    except ImportError:
        raise BrowserUnavailable(INSTALL_HINT) from None
    async with async_playwright() as pw:
        try:
            choice = find_chromium(
                explicit=options.chromium_path, playwright_executable=pw.chromium.executable_path
            )
        except BrowserNotFound as exc:
            raise BrowserUnavailable(f"--browser: {exc}") from None
        try:
            browser = await pw.chromium.launch(
                executable_path=choice.executable,
                args=[*LAUNCH_ARGS, *SUITE_ARGS],
                timeout=LAUNCH_TIMEOUT * 1000,
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(
                f"--browser: Chromium {choice.executable} did not start: {one_line(exc.message)}"
            ) from None
        try:
            page = ChromiumPage(browser, choice.executable, options, target)
            try:
                await page.load()
            except PlaywrightError as exc:
                raise BrowserUnavailable(
                    f"--browser: the page at {page.page_url} did not load: {one_line(exc.message)}"
                ) from None
            yield page
        finally:
            with contextlib.suppress(PlaywrightError):
                await browser.close()


class ChromiumPage:
    """The loaded page, and what Chromium reports while its EventSource runs."""

    def __init__(
        self, browser: Browser, executable: str, options: BrowserOptions, target: str
    ) -> None:
        self.browser = browser
        self.executable = executable
        self.options = options
        self.target = target
        self.page_url = page_url(options.origin or origin_of(target))
        self._page: Page | None = None
        self._cdp: CDPSession | None = None
        self._t0 = time.monotonic()
        self._request_id: str | None = None
        self._status: int | None = None
        self._buffered: bytes | None = None
        self._streamed = bytearray()
        self._streaming: asyncio.Task[None] | None = None
        self._events: list[BrowserEvent] = []
        self._states: list[StateChange] = []
        self._console: list[str] = []
        self._ended = asyncio.Event()

    async def load(self) -> None:
        """New context and page, the page route, the recorder binding, DevTools listeners; then
        navigate. Raises playwright's Error."""
        context = await self.browser.new_context(
            ignore_https_errors=self.options.accept_certificate
        )
        page = await context.new_page()
        self._page = page

        async def serve(route: Route) -> None:
            await route.fulfill(status=200, content_type="text/html", body=PAGE_HTML)

        await page.route(self.page_url, serve)
        await page.expose_function(BINDING, self._on_state)
        page.on("console", lambda message: self._console.append(message.text))
        cdp = await context.new_cdp_session(page)
        self._cdp = cdp
        cdp.on("Network.requestWillBeSent", self._on_request)
        cdp.on("Network.responseReceived", self._on_response)
        cdp.on("Network.dataReceived", self._on_data)
        cdp.on("Network.eventSourceMessageReceived", self._on_message)
        await cdp.send("Network.enable")
        await page.goto(self.page_url, timeout=PAGE_TIMEOUT * 1000)

    # --- what Chromium reports ------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _on_state(self, event: str, ready_state: int) -> None:
        self._states.append(StateChange(str(event), int(ready_state), self._now()))
        if event == "error":
            self._ended.set()

    def _on_request(self, params: dict[str, Any]) -> None:
        if params.get("type") == "EventSource" and self._request_id is None:
            self._request_id = params.get("requestId")

    def _on_response(self, params: dict[str, Any]) -> None:
        if params.get("requestId") != self._request_id or self._cdp is None:
            return
        self._status = int(params.get("response", {}).get("status", 0)) or None
        self._streaming = asyncio.ensure_future(self._stream_body(self._cdp, str(self._request_id)))

    async def _stream_body(self, cdp: CDPSession, request_id: str) -> None:
        """Ask Chromium for the body bytes as they arrive (what it received before the call comes
        back as ``bufferedData``). Best effort: without them the main capture is the reference."""
        with contextlib.suppress(Exception):
            reply = await cdp.send("Network.streamResourceContent", {"requestId": request_id})
            self._buffered = base64.b64decode(reply.get("bufferedData", ""))

    def _on_data(self, params: dict[str, Any]) -> None:
        if params.get("requestId") == self._request_id and params.get("data"):
            self._streamed += base64.b64decode(params["data"])

    def _on_message(self, params: dict[str, Any]) -> None:
        if params.get("requestId") not in (None, self._request_id):
            return
        self._events.append(
            BrowserEvent(
                str(params.get("eventName", "")),
                str(params.get("data", "")),
                str(params.get("eventId", "")),
                self._now(),
            )
        )

    # --- the run ----------------------------------------------------------------------------
    async def record(self, t0: float, main_done: asyncio.Event, deadline: float) -> BrowserRun:
        """Open the EventSource, and close it at its first error, or a grace after the main capture
        ended (``main_done``), or ``deadline`` seconds after ``t0``. Never raises: a page or
        browser that went away is a run with ``problem`` set."""
        from playwright.async_api import Error as PlaywrightError

        self._t0 = t0
        closed_by = ClosedBy.STREAM
        problem = ""
        try:
            assert self._page is not None, "load() first"
            await self._page.evaluate(START_SCRIPT, [self.target, self.options.with_credentials])
            lag = self._now()
            remaining = max(0.0, deadline + GRACE - self._now())  # the main capture ends first
            if not await _first(self._ended, main_done, within=remaining):
                closed_by = ClosedBy.DEADLINE
            elif not self._ended.is_set():
                grace = GRACE + lag
                if not await _first(self._ended, within=grace):
                    closed_by = ClosedBy.SUITE
            if not self._ended.is_set():
                await self._page.evaluate(CLOSE_SCRIPT)
            await asyncio.sleep(SETTLE)
        except (PlaywrightError, AssertionError) as exc:
            closed_by, problem = ClosedBy.CRASH, one_line(str(exc))
        if self._streaming is not None and not self._streaming.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._streaming), SETTLE)
        body = None if self._buffered is None else self._buffered + bytes(self._streamed)
        return BrowserRun(
            page_url=self.page_url,
            stream_url=self.target,
            with_credentials=self.options.with_credentials,
            executable=self.executable,
            events=tuple(self._events),
            states=tuple(self._states),
            console=tuple(self._console),
            body=body,
            status=self._status,
            closed_by=closed_by,
            problem=problem,
        )


async def _first(*events: asyncio.Event, within: float) -> bool:
    """Wait until one of ``events`` is set, at most ``within`` seconds: True if one was."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
    return bool(done)
