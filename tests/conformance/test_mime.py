"""Content-Type as a browser reads it (Fetch "extract a MIME type"): the last parsable one wins."""

from __future__ import annotations

import pytest

from conformance.checks.mime import extract_mime_type, parse_mime_type, split_values


@pytest.mark.parametrize(
    ("text", "essence", "params"),
    [
        ("text/event-stream", "text/event-stream", {}),
        ("Text/Event-Stream ; Charset=UTF-8", "text/event-stream", {"charset": "UTF-8"}),
        ('text/event-stream;charset="utf-8"', "text/event-stream", {"charset": "utf-8"}),
        ('text/x;a="b\\"c";d=e', "text/x", {"a": 'b"c', "d": "e"}),
        ("text/x;a=1;a=2", "text/x", {"a": "1"}),
        ("text/x;=1;b;c=;d=4", "text/x", {"d": "4"}),
        ("text/x ;  q = 1", "text/x", {}),  # "q " is not a token: ignored
    ],
)
def test_parse(text: str, essence: str, params: dict[str, str]) -> None:
    mime = parse_mime_type(text)
    assert mime is not None
    assert mime.essence == essence
    assert mime.parameters == params


@pytest.mark.parametrize("text", ["", "text", "text/", "/x", "te xt/plain", "text/pl ain"])
def test_parse_failures(text: str) -> None:
    assert parse_mime_type(text) is None


def test_split_respects_quotes() -> None:
    assert split_values(['a/b;x="1,2"', "c/d"]) == ['a/b;x="1,2"', "c/d"]
    assert split_values(["a/b, c/d"]) == ["a/b", "c/d"]


def test_the_last_parsable_value_wins_as_in_chromium() -> None:
    last = extract_mime_type(["text/event-stream", "text/html"])
    assert last is not None
    assert last.essence == "text/html"
    first_bad = extract_mime_type(["text/html", "text/event-stream"])
    assert first_bad is not None
    assert first_bad.essence == "text/event-stream"
    assert extract_mime_type(["text/event-stream", "*/*", "nonsense"]) == parse_mime_type(
        "text/event-stream"
    )
    assert extract_mime_type([]) is None
    assert extract_mime_type(["nonsense"]) is None


def test_a_later_value_of_the_same_essence_keeps_the_charset() -> None:
    mime = extract_mime_type(["text/event-stream;charset=latin1", "text/event-stream"])
    assert mime is not None
    assert mime.charset == "latin1"
    other = extract_mime_type(["text/html;charset=latin1", "text/event-stream"])
    assert other is not None
    assert other.charset is None
