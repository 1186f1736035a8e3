"""Browser tests of the RAM monitor page (Playwright, Chromium), run in their own pytest process."""
