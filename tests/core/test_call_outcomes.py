"""Call outcomes as data: the defaults in both languages, and the config table's parser."""

from __future__ import annotations

import re

import pytest

from inbox.core.calls import (
    DEFAULT_CALL_OUTCOMES,
    CallOutcome,
    parse_call_outcomes,
    reached_ids,
)
from inbox.core.errors import ConfigError
from inbox.core.labels import Label

WHERE = "voice.outcomes"


def test_defaults_are_the_issue_list_in_japanese_and_english() -> None:
    assert [o.ja for o in DEFAULT_CALL_OUTCOMES] == [
        "つながった",
        "応答なし",
        "話し中",
        "番号違い",
        "今は話せない",
        "辞退",
        "途中で切れた",
        "無言電話",
        "いたずら",
    ]
    assert all(o.en and isinstance(o, Label) for o in DEFAULT_CALL_OUTCOMES)
    assert len({o.id for o in DEFAULT_CALL_OUTCOMES}) == len(DEFAULT_CALL_OUTCOMES)


def test_only_answered_calls_end_the_tries() -> None:
    assert reached_ids(DEFAULT_CALL_OUTCOMES) == {"reached", "wrong_number", "declined", "prank"}
    # She could not talk: the desk tries again inside her window.
    assert not reached_ids(DEFAULT_CALL_OUTCOMES) & {"not_safe", "hung_up", "silent", "no_answer"}


def test_the_defaults_round_trip_through_the_parser() -> None:
    raw = [
        {"id": o.id, "ja": o.ja, "en": o.en, "reached": o.reached} for o in DEFAULT_CALL_OUTCOMES
    ]
    assert parse_call_outcomes(raw, WHERE) == DEFAULT_CALL_OUTCOMES


def test_reached_defaults_to_false_and_words_are_trimmed() -> None:
    parsed = parse_call_outcomes(
        [
            {"id": "ok", "ja": " つながった ", "en": "Reached", "reached": True},
            {"id": "voicemail", "ja": "留守電", "en": "Voicemail"},
        ],
        WHERE,
    )
    assert parsed == (
        CallOutcome(id="ok", ja="つながった", en="Reached", reached=True),
        CallOutcome(id="voicemail", ja="留守電", en="Voicemail", reached=False),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "voice.outcomes: expected a non-empty list"),
        ("reached", "voice.outcomes: expected a non-empty list"),
        ([{"id": "a", "ja": "あ", "en": "A", "reached": "yes"}], "voice.outcomes[0].reached"),
        ([{"id": "a", "ja": "あ", "en": "A", "reachd": True}], "voice.outcomes[0].reachd"),
        (["a"], "voice.outcomes[0]: expected"),
        ([{"id": "A b", "ja": "あ", "en": "A", "reached": True}], "voice.outcomes[0].id"),
        (
            [
                {"id": "a", "ja": "あ", "en": "A", "reached": True},
                {"id": "a", "ja": "い", "en": "B"},
            ],
            "voice.outcomes[1].id: 'a' is listed twice",
        ),
        ([{"id": "a", "ja": "あ", "en": "A"}], "mark at least one outcome `reached = true`"),
    ],
)
def test_config_errors_name_the_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_call_outcomes(raw, WHERE)
