"""inbox.core.text: what either database refuses is taken out of outside text, the rest kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.core.text import storable, storable_json


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("", ""),
        ("hello", "hello"),
        ("夜分にすみません", "夜分にすみません"),
        ("\ud83d", "\ufffd"),  # JSON's "\ud83d": a lone high surrogate
        ("a\ude00b", "a\ufffdb"),  # a lone low one
        ("\ude00\ud83d", "\ufffd\ufffd"),  # halves in the wrong order are no pair
        ("\ud83d\ude00", "😀"),  # a pair left split in a str is the character it stands for
        ("a\x00b", "ab"),
        ("\x00", ""),
        ("相談\x00です\ud83d", "相談です\ufffd"),
        ("件名\udc8f", "件名\ufffd"),  # a byte the e-mail parser surrogate-escaped
        ("\x01\x7f\uffff\ufffe\U0010ffff", "\x01\x7f\uffff\ufffe\U0010ffff"),  # both take these
    ],
)
def test_storable(given_text: str, expected: str) -> None:
    assert storable(given_text) == expected


@pytest.mark.parametrize("plain", ["ascii text", "日本語の相談です。🍀"])
def test_plain_text_comes_back_as_the_same_object(plain: str) -> None:
    assert storable(plain) is plain


# Any text, with NULs and surrogate halves (which st.characters() leaves out) mixed in.
OUTSIDE_TEXT = st.text(
    alphabet=st.characters() | st.sampled_from(["\x00", "\ud83d", "\ude00", "\udc8f"])
)


@given(OUTSIDE_TEXT)
def test_any_text_becomes_utf8_without_nul_and_stays_put(text: str) -> None:
    clean = storable(text)
    clean.encode("utf-8")  # raises on any surrogate left
    assert "\x00" not in clean
    assert storable(clean) == clean
    if not any("\ud800" <= c <= "\udfff" for c in text):
        assert clean == text.replace("\x00", "")


def test_storable_json_cleans_every_string_keys_too() -> None:
    parsed = {"body": "a\x00", "tags": ["\ud83d", 1, None, True], "n\x00": {"x": "\ude00"}}
    assert storable_json(parsed) == {
        "body": "a",
        "tags": ["\ufffd", 1, None, True],
        "n": {"x": "\ufffd"},
    }
