"""The settings table: every setting declared once, and every front end generated from it."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import math
from pathlib import Path

import pytest

from conformance import errors, pytest_plugin
from conformance.capture.model import Limits
from conformance.checks.registry import select
from conformance.profiles import Profile, load_profile, profile_from_flags, profile_from_mapping
from conformance.settings import (
    BY_NAME,
    LIMITS,
    RUN,
    SETTINGS,
    RunOptions,
    Setting,
    add_arguments,
    run_options,
)

NOT_SETTINGS = {"limits", "source"}  # Profile fields nobody sets: the nesting and the origin


def test_every_field_has_exactly_one_entry() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    profile_fields = {f.name for f in dataclasses.fields(Profile)} - NOT_SETTINGS
    limit_fields = {f.name for f in dataclasses.fields(Limits)}
    run_fields = {f.name for f in dataclasses.fields(RunOptions)}
    assert {s.name for s in SETTINGS if s.section == LIMITS} == limit_fields
    assert {s.name for s in SETTINGS if s.section == RUN} == run_fields
    assert {s.name for s in SETTINGS if s.section not in (LIMITS, RUN)} == profile_fields


def test_defaults_pass_their_own_checks() -> None:
    """The dataclass defaults (the one home of defaults) agree with the table's types and bounds."""
    profile = Profile()
    for setting in SETTINGS:
        if setting.section == RUN:
            continue
        holder = profile.limits if setting.section == LIMITS else profile
        setting.check(getattr(holder, setting.name))


def test_argparse_options_come_from_the_table() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    strings = {o for a in parser._actions for o in a.option_strings}  # the test may look inside
    for setting in SETTINGS:
        if setting.option is not None:
            assert set(setting.option_strings) <= strings
    assert "--contract" not in strings  # profile-file only


def test_the_plugin_mirrors_every_flag_but_what_pytest_has() -> None:
    known: set[str] = set()

    class Group:
        def addoption(self, *names: str, **kwargs: object) -> None:
            known.update(names)

    class Parser:
        def getgroup(self, *args: object) -> Group:
            return Group()

        def addini(self, *args: object, **kwargs: object) -> None:
            pass

    pytest_plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    for setting in SETTINGS:
        if setting.option is not None:
            assert (setting.pytest_option in known) == setting.pytest, setting.name
    assert "--sse-junit-xml" not in known  # pytest's own --junitxml


def test_the_plugin_uses_no_private_api() -> None:
    source = inspect.getsource(pytest_plugin)
    for private in ("_actions", "argparse._", "cli._", "from conformance.cli"):
        assert private not in source


@pytest.mark.parametrize(
    ("flags", "toml", "field", "value"),
    [
        ({"expect_count": "none"}, {"expect_count": "none"}, "expect_count", None),
        ({"expect_count": "NONE"}, {"expect_count": ""}, "expect_count", None),
        ({"interval": "none"}, {"interval": "none"}, "interval", None),
        ({"sentinel": ""}, {"sentinel": ""}, "sentinel", None),
        ({"event_type": "*"}, {"event_type": "*"}, "event_type", None),
        ({"sentinel": "None"}, {"sentinel": "None"}, "sentinel", "None"),  # only "" unsets it
        ({"expect_count": "7"}, {"expect_count": 7}, "expect_count", 7),
    ],
)
def test_unset_words_mean_the_same_in_flags_and_files(
    flags: dict[str, str], toml: dict[str, object], field: str, value: object
) -> None:
    base = load_profile("ram-monitor")
    from_flags = profile_from_flags({"profile": "ram-monitor", **flags})
    from_file = profile_from_mapping(toml, base=base)
    assert getattr(from_flags, field) == getattr(from_file, field) == value


def test_flag_values_are_checked_with_one_line_reasons() -> None:
    with pytest.raises(errors.SettingError, match="--deadline must be > 0: '-1'"):
        profile_from_flags({"deadline": "-1"})
    with pytest.raises(errors.SettingError, match="--concurrency: not an integer"):
        profile_from_flags({"concurrency": "x"})
    with pytest.raises(errors.ProfileError, match="cadence_tolerance must be > 0"):
        profile_from_mapping({"cadence_tolerance": 0})
    assert profile_from_flags({"close_grace": "0"}).limits.close_grace == 0  # >= 0, like files


NUMERIC = [s for s in SETTINGS if s.kind in (int, float)]


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "-1"])
@pytest.mark.parametrize("setting", NUMERIC, ids=lambda s: s.name)
def test_every_numeric_flag_refuses_nan_infinities_and_negatives(
    setting: Setting, text: str
) -> None:
    """``--deadline nan`` used to remove the deadline, ``--idle-timeout nan`` to end at once."""
    with pytest.raises(errors.SettingError) as caught:
        setting.from_text(text)
    message = str(caught.value)
    assert "\n" not in message
    if setting.kind is int and text != "-1":
        assert "not an integer" in message
    elif text == "-1":
        assert "must be >" in message
    else:
        assert "must be a finite number" in message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0, -1])
@pytest.mark.parametrize("setting", NUMERIC, ids=lambda s: s.name)
def test_every_numeric_profile_key_refuses_nan_infinities_and_negatives(
    setting: Setting, value: float
) -> None:
    # (a float for an int key is a type error: refused too)
    section = {LIMITS: "limits", "request": "request"}.get(setting.section)
    data: dict[str, object] = {setting.name: value}
    if section:
        data = {section: data}
    if setting.section == RUN:
        with pytest.raises(errors.UsageError):
            setting.check(value)
        return
    with pytest.raises(errors.ProfileError):
        profile_from_mapping(data)


def test_a_toml_profile_with_nan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[limits]\ndeadline = nan\n")
    with pytest.raises(errors.ProfileError, match="deadline must be a finite number"):
        load_profile(str(path))


def test_headers_replace_by_name_and_method_is_upper_case() -> None:
    profile = profile_from_flags(
        {
            "profile": "openai-chat",
            "headers": ["content-type: text/plain", "X-A: 1"],
            "method": "put",
        }
    )
    assert profile.method == "PUT"
    assert profile.headers == (("content-type", "text/plain"), ("X-A", "1"))


def test_run_options_and_their_errors() -> None:
    options = run_options({"only": ["http.*,framing.*", "payload.count"], "strict": True})
    assert options.only == ("http.*", "framing.*", "payload.count")
    assert options.strict
    assert run_options({}).ready_timeout == RunOptions().ready_timeout
    with pytest.raises(errors.SelectionError, match=r"no check matches 'nope\.\*'"):
        select(run_options({"skip": ["nope.*"]}).skip)
    with pytest.raises(errors.SettingError, match="--ready-timeout must be > 0"):
        run_options({"ready_timeout": "0"})
    assert select(["http.status"])[0].id == "http.status"


def test_one_error_family() -> None:
    from conformance.launch import LaunchError
    from conformance.profiles import ProfileError

    for cls in (
        ProfileError,
        LaunchError,
        errors.SelectionError,
        errors.SettingError,
        errors.LoadUsageError,
    ):
        assert issubclass(cls, errors.UsageError)
    assert issubclass(errors.UsageError, ValueError)
    assert errors.one_line("a\n  b\tc ") == "a b c"


def test_adding_a_setting_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new table entry gets its flag, its plugin twin and its conversion with no other code."""
    from conformance import settings

    extra = settings.Setting("frobnicate", bool, "an example setting", settings.RUN)
    monkeypatch.setattr(settings, "SETTINGS", (*SETTINGS, extra))
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    assert parser.parse_args(["--frobnicate"]).frobnicate is True
    assert settings.given_values({"frobnicate": True}, [extra]) == {"frobnicate": True}
    assert "frobnicate" not in BY_NAME  # the real table is untouched


def test_docs_name_only_real_keys() -> None:
    """README's profile example parses (every key it shows exists)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n")[1].split("```")[0]
    import tomllib

    profile_from_mapping(tomllib.loads(example), base=load_profile("generic"))
