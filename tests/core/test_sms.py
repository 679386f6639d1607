"""inbox.core.sms: segment counting (GSM-7 / UCS-2) and STOP / START / HELP keywords."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.core.sms import (
    DEFAULT_OPT_OUT_WORDS,
    PERMANENT_ERROR_CODES,
    Encoding,
    Keyword,
    OptOutWords,
    Segments,
    count_segments,
    fold,
    twilio_error_reason,
)

JA = "相"  # any kana or kanji: UCS-2, one code unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments(Encoding.GSM7, 0, 1)),
        ("a" * 160, Segments(Encoding.GSM7, 160, 1)),
        ("a" * 161, Segments(Encoding.GSM7, 161, 2)),
        ("a" * 306, Segments(Encoding.GSM7, 306, 2)),
        ("a" * 307, Segments(Encoding.GSM7, 307, 3)),
        (JA * 70, Segments(Encoding.UCS2, 70, 1)),
        (JA * 71, Segments(Encoding.UCS2, 71, 2)),
        (JA * 134, Segments(Encoding.UCS2, 134, 2)),
        (JA * 135, Segments(Encoding.UCS2, 135, 3)),
        ("a" * 69 + "あ", Segments(Encoding.UCS2, 70, 1)),  # one Japanese character: all UCS-2
        ("€" * 80, Segments(Encoding.GSM7, 160, 1)),  # extension characters are 2 septets
        ("[" + "a" * 159, Segments(Encoding.GSM7, 161, 2)),
        ("a" * 158 + "]", Segments(Encoding.GSM7, 160, 1)),
        ("{}\\~^|\f", Segments(Encoding.GSM7, 14, 1)),
        ("😀" * 35, Segments(Encoding.UCS2, 70, 1)),  # an emoji is a surrogate pair: 2 units
        ("😀" * 36, Segments(Encoding.UCS2, 72, 2)),
        ("ÄÖÜäöüßé@£¥", Segments(Encoding.GSM7, 11, 1)),  # in GSM-7's basic table
        ("ç", Segments(Encoding.UCS2, 1, 1)),  # only capital Ç is in GSM-7
    ],
)
def test_segments(text: str, expected: Segments) -> None:
    assert count_segments(text) == expected


def test_a_two_unit_character_never_straddles_parts() -> None:
    # 152 septets then "€" (2): it does not fit in the first part's 153, so it opens the second.
    assert count_segments("a" * 152 + "€" + "a" * 152).count == 3
    assert count_segments("a" * 153 + "€" + "a" * 151).count == 2
    # 66 units then an emoji (2) does not fit in 67.
    assert count_segments(JA * 66 + "😀" + JA * 66).count == 3
    assert count_segments(JA * 67 + "😀" + JA * 65).count == 2


@given(st.text(max_size=400))
def test_segments_are_within_the_bounds_of_their_encoding(text: str) -> None:
    seg = count_segments(text)
    single, part = (160, 153) if seg.encoding is Encoding.GSM7 else (70, 67)
    if seg.units <= single:
        assert seg.count == 1
    else:
        assert -(-seg.units // part) <= seg.count <= -(-seg.units // (part - 1))


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", Keyword.STOP),
        ("stop", Keyword.STOP),
        ("  Stop\n", Keyword.STOP),
        ("ＳＴＯＰ", Keyword.STOP),  # full-width
        ("Unsubscribe", Keyword.STOP),
        ("stopall", Keyword.STOP),
        ("停止", Keyword.STOP),
        ("　配信停止　", Keyword.STOP),  # full-width spaces
        ("ストップ", Keyword.STOP),
        ("ｽﾄｯﾌﾟ", Keyword.STOP),  # half-width katakana
        ("start", Keyword.START),
        ("Yes", Keyword.START),
        ("再開", Keyword.START),
        ("help", Keyword.HELP),
        ("ＩＮＦＯ", Keyword.HELP),
        ("ヘルプ", Keyword.HELP),
        ("please stop", None),  # a keyword only as the whole message
        ("stop.", None),
        ("停止してください", None),
        ("", None),
        ("助けて", None),
    ],
)
def test_default_keywords(body: str, keyword: Keyword | None) -> None:
    assert DEFAULT_OPT_OUT_WORDS.classify(body) is keyword


def test_a_program_changes_the_words() -> None:
    words = OptOutWords.of(stop=["やめる", "Stop"], start=["ＲＥＳＵＭＥ"], help=[])
    assert words.classify("やめる") is Keyword.STOP
    assert words.classify("STOP") is Keyword.STOP
    assert words.classify("resume") is Keyword.START
    assert words.classify("停止") is None  # the defaults are replaced, not added to
    assert words.classify("help") is None


@pytest.mark.parametrize(
    ("stop", "start", "message"),
    [
        (["STOP", " "], ["START"], "stop: a word is empty"),
        (["STOP"], ["ｓｔｏｐ"], "start: 'stop' is also in stop"),
    ],
)
def test_word_lists_are_checked(stop: list[str], start: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OptOutWords.of(stop=stop, start=start, help=[])


def test_fold() -> None:
    assert fold("　ＳＴＯＰ ") == "stop"
    assert fold("ｽﾄｯﾌﾟ") == "ストップ"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (21610, "unsubscribed (the recipient sent STOP)"),
        (21614, "not a mobile number"),
        (30006, "landline or unreachable carrier"),
        (12345, "unknown error"),
        (None, "unknown error"),
    ],
)
def test_twilio_error_reason(code: int | None, reason: str) -> None:
    assert twilio_error_reason(code) == reason


def test_permanent_error_codes_are_the_ones_a_retry_cannot_fix() -> None:
    assert {21610, 21614, 21211, 30006} <= PERMANENT_ERROR_CODES
    assert not {30003, 30007, 30008} & PERMANENT_ERROR_CODES  # may pass on a later try
