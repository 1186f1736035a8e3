"""Which Chromium gets launched: the order of choices, and one clear line when there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import pytest

from e2e.browser import HOW_TO_GET_ONE, BrowserChoice, BrowserNotFound, find_chromium


class FakeFs(TypedDict):
    which: Callable[[str], str | None]
    is_executable: Callable[[str], bool]


def fake_fs(*executables: str) -> FakeFs:
    """``which`` and ``is_executable`` that see only ``executables`` (absolute paths)."""
    present = set(executables)
    by_name = {path.rsplit("/", 1)[-1]: path for path in executables}
    return FakeFs(which=lambda name: by_name.get(name), is_executable=lambda path: path in present)


def test_explicit_option_wins_over_everything() -> None:
    choice = find_chromium(
        explicit="/opt/chrome/chrome",
        environ={"CHROMIUM_PATH": "/usr/bin/chromium"},
        playwright_executable="/pw/chrome",
        **fake_fs("/opt/chrome/chrome", "/usr/bin/chromium", "/pw/chrome"),
    )
    assert choice == BrowserChoice("/opt/chrome/chrome", "option")


def test_environment_variable_wins_over_playwright_and_system() -> None:
    choice = find_chromium(
        explicit=None,
        environ={"CHROMIUM_PATH": "/opt/chrome/chrome"},
        playwright_executable="/pw/chrome",
        **fake_fs("/opt/chrome/chrome", "/pw/chrome", "/usr/bin/chromium"),
    )
    assert choice == BrowserChoice("/opt/chrome/chrome", "env")


def test_explicit_name_is_looked_up_on_path() -> None:
    choice = find_chromium(
        explicit="chromium",
        environ={},
        playwright_executable=None,
        **fake_fs("/usr/local/bin/chromium"),
    )
    assert choice == BrowserChoice("/usr/local/bin/chromium", "option")


@pytest.mark.parametrize(
    ("explicit", "environ", "where"),
    [
        ("/nope/chrome", {}, "--chromium-path"),
        (None, {"CHROMIUM_PATH": "/nope/chrome"}, "CHROMIUM_PATH"),
    ],
)
def test_a_named_browser_that_is_missing_is_an_error_not_a_fallback(
    explicit: str | None, environ: dict[str, str], where: str
) -> None:
    with pytest.raises(BrowserNotFound) as caught:
        find_chromium(
            explicit=explicit,
            environ=environ,
            playwright_executable="/pw/chrome",
            **fake_fs("/pw/chrome", "/usr/bin/chromium"),
        )
    message = str(caught.value)
    assert message.startswith(f"{where}='/nope/chrome'")
    assert "\n" not in message


def test_playwright_build_is_preferred_over_system() -> None:
    choice = find_chromium(
        explicit=None,
        environ={},
        playwright_executable="/pw/chrome",
        **fake_fs("/pw/chrome", "/usr/bin/chromium"),
    )
    assert choice == BrowserChoice("/pw/chrome", "playwright")


def test_missing_playwright_build_falls_back_to_system_on_path() -> None:
    choice = find_chromium(
        explicit=None,
        environ={},
        playwright_executable="/pw/not-downloaded/chrome",
        **fake_fs("/usr/bin/chromium-browser"),
    )
    assert choice == BrowserChoice("/usr/bin/chromium-browser", "system")


def test_system_path_is_tried_when_not_on_path() -> None:
    choice = find_chromium(
        explicit=None,
        environ={},
        playwright_executable=None,
        which=lambda name: None,
        is_executable=lambda path: path == "/usr/bin/chromium",
    )
    assert choice == BrowserChoice("/usr/bin/chromium", "system")


def test_no_browser_at_all_says_how_to_get_one_in_one_line() -> None:
    with pytest.raises(BrowserNotFound) as caught:
        find_chromium(
            explicit=None,
            environ={},
            playwright_executable="/pw/chrome",
            which=lambda name: None,
            is_executable=lambda path: False,
        )
    assert str(caught.value) == HOW_TO_GET_ONE
    assert "\n" not in HOW_TO_GET_ONE
    assert "playwright install chromium" in HOW_TO_GET_ONE
    assert "apt-get install" in HOW_TO_GET_ONE
