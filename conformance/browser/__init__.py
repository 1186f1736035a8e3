"""The suite's real-browser run (``--browser``): the endpoint opened with a native ``EventSource``
in headless Chromium, alongside the main capture.

- :mod:`conformance.browser.model`: what the run recorded (data only, no Playwright import), and
  :class:`BrowserOptions`;
- :mod:`conformance.browser.compare`: Chromium's events against the spec's (the suite's parser
  over the very bytes Chromium received), pure;
- :mod:`conformance.browser.chromium`: which Chromium to launch (shared with e2e/);
- :mod:`conformance.browser.page`: the page and its recorder script;
- :mod:`conformance.browser.session`: the Playwright (async API) run; imports Playwright lazily,
  so the suite works without the ``[browser]`` extra until ``--browser`` is asked for.
"""
