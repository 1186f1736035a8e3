"""Profiles: the built-in TOML files, overrides, user files, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.profiles import ProfileError, builtin_names, load_profile


def test_builtins() -> None:
    assert {"generic", "ram-monitor"} <= set(builtin_names())
    ram = load_profile("ram-monitor")
    assert (ram.expect_count, ram.sentinel, ram.data_format, ram.contract) == (
        22,
        "RAM monitoring completed",
        "json",
        "ram-monitor",
    )
    generic = load_profile("generic")
    assert (generic.expect_count, generic.sentinel, generic.contract) == (None, None, None)
    assert generic.source == "builtin:generic"


def test_replace_routes_limits_and_validates() -> None:
    profile = load_profile("ram-monitor").replace(deadline=5, close_grace=0.5, interval=None)
    assert profile.limits.deadline == 5
    assert profile.limits.close_grace == 0.5
    assert profile.interval is None
    with pytest.raises(ProfileError, match="unknown profile setting"):
        profile.replace(dedline=5)
    with pytest.raises(ProfileError, match="data_format"):
        profile.replace(data_format="xml")
    with pytest.raises(ProfileError, match="deadline must be > 0"):
        profile.replace(deadline=0)


def test_sentinel_matches_decoded_or_raw_data() -> None:
    ram = load_profile("ram-monitor")
    assert ram.is_sentinel('"RAM monitoring completed"')
    assert ram.is_sentinel("RAM monitoring completed")
    assert not ram.is_sentinel('"RAM monitoring"')
    done = ram.replace(sentinel="[DONE]")
    assert done.is_sentinel("[DONE]")


def test_user_file_extends_a_builtin(tmp_path: Path) -> None:
    path = tmp_path / "chat.toml"
    path.write_text(
        """
extends = "generic"
sentinel = "[DONE]"
data_format = "json"

[request]
method = "POST"
headers = { "Content-Type" = "application/json", Authorization = "Bearer x" }
body = { model = "m", stream = true }

[limits]
deadline = 12.5

[options]
openai = true
"""
    )
    profile = load_profile(str(path))
    assert profile.name == "chat"
    assert profile.method == "POST"
    assert ("Authorization", "Bearer x") in profile.headers
    assert profile.body == '{"model": "m", "stream": true}'
    assert profile.limits.deadline == 12.5
    assert profile.limits.connect_timeout == load_profile("generic").limits.connect_timeout
    assert profile.options == {"openai": True}
    request = profile.capture_request("http://x.invalid/")
    assert request.body == b'{"model": "m", "stream": true}'
    assert ("Accept", "text/event-stream") in request.wire_headers()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[request]\nverb = 'GET'\n", "request.verb"),
        ("[limits]\ndeadlin = 1\n", "limits.deadlin"),
        ("extends = 'self'\n", "unknown profile 'self'"),
        ("expect_count = 'many'\n", "expect_count must be int or none, not 'many'"),
        ("[limits]\ndeadline = true\n", "deadline must be int or float"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=words):
        load_profile(str(path))


def test_a_file_extending_itself(tmp_path: Path) -> None:
    path = tmp_path / "loop.toml"
    path.write_text(f"extends = '{path}'\n")
    with pytest.raises(ProfileError, match="extends itself"):
        load_profile(str(path))


def test_summary_redacts_credentials_and_raw_sentinel() -> None:
    profile = load_profile("generic").replace(
        headers={"Authorization": "Bearer sk-secret", "X-Api-Key": "k", "Accept-Language": "en"}
    )
    headers = dict(map(tuple, profile.summary()["headers"]))
    assert headers["Authorization"] == "<redacted, 16 chars>"
    assert headers["X-Api-Key"] == "<redacted, 1 chars>"
    assert headers["Accept-Language"] == "en"
    assert "sk-secret" not in repr(profile.summary())
    decoded = load_profile("generic").replace(sentinel="[DONE]", data_format="json")
    assert decoded.is_sentinel('"[DONE]"')
    raw = decoded.replace(sentinel_raw=True)
    assert raw.is_sentinel("[DONE]")
    assert not raw.is_sentinel('"[DONE]"')
