"""Auto-reply texts: after hours with the next opening, the waiting line, discretion, config."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from inbox.core.errors import ConfigError
from routing.hours import TOKYO, parse_service_hours
from routing.replies import (
    AFTER_HOURS,
    DEFAULT_AFTER_HOURS_BY_LANGUAGE,
    DEFAULT_QUEUE_ACK_BY_LANGUAGE,
    ON_CALL,
    QUEUE_ACK,
    SAFETY,
    ReplyTexts,
    after_hours_reply,
    on_call_reply,
    opening_en,
    opening_ja,
    parse_replies,
    queue_ack_reply,
    safety_reply,
    template_reply,
    wait_estimate,
)

_JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
LINE = parse_service_hours({"weekdays": ["09:00-17:30"]}, "routing.hours.line")
TEXTS = ReplyTexts(program="つなぐ市こころの相談", program_en="Tsunagu City Counseling")


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


def test_after_hours_names_the_next_opening_in_both_languages() -> None:
    # Friday 2026-11-20 22:00: Monday 11-23 is 勤労感謝の日, so the line opens Tuesday 9:00.
    reply = after_hours_reply(TEXTS, LINE, jst(20, 22))
    assert reply is not None and reply.kind == AFTER_HOURS
    assert "11月24日(火) 09:00以降" in reply.body
    assert "Tue 24 Nov 09:00" in reply.body
    assert "つなぐ市こころの相談です" in reply.body and "110" in reply.body
    assert "This is Tsunagu City Counseling." in reply.body  # English readers get English
    # Discreet: the same facts, no program name.
    assert "11月24日(火) 09:00" in reply.discreet_body and "110" in reply.discreet_body
    assert "つなぐ市" not in reply.discreet_body and "相談" not in reply.discreet_body
    assert "Tsunagu" not in reply.discreet_body


def test_no_after_hours_reply_while_open() -> None:
    assert after_hours_reply(TEXTS, LINE, jst(24, 9)) is None
    assert after_hours_reply(TEXTS, LINE, jst(24, 8, 59)) is not None


def test_opening_formats() -> None:
    assert opening_ja(jst(24, 9), TOKYO) == "11月24日(火) 09:00"
    assert opening_en(jst(24, 9), TOKYO) == "Tue 24 Nov 09:00"


def test_wait_estimate_is_honest() -> None:
    assert wait_estimate(3, timedelta(minutes=20), 2) == timedelta(minutes=30)
    assert wait_estimate(3, None, 2) is None  # no history: say so, do not guess
    assert wait_estimate(3, timedelta(minutes=20), 0) is None


@pytest.mark.parametrize(
    ("wait", "ja", "en"),
    [
        (None, "未定", "not known yet"),
        (timedelta(minutes=1), "約5分", "about 5 minutes"),
        (timedelta(minutes=23), "約25分", "about 25 minutes"),
        (timedelta(hours=3), "約3時間", "about 3 hours"),
    ],
)
def test_queue_ack_states_place_and_wait(wait: timedelta | None, ja: str, en: str) -> None:
    reply = queue_ack_reply(TEXTS, 4, wait)
    assert reply is not None and reply.kind == QUEUE_ACK
    assert "4番目" in reply.body and ja in reply.body and en in reply.body
    assert "つなぐ市" not in reply.discreet_body and ja in reply.discreet_body


def test_queue_ack_can_be_turned_off() -> None:
    assert queue_ack_reply(ReplyTexts(queue_ack=""), 1, None) is None


def test_templates_plain_and_discreet() -> None:
    texts = parse_replies(
        {
            "program": "DV相談",
            "templates": {
                "dv_safety": {
                    "text": "{program}です。履歴を消すことができます。",
                    "discreet": "履歴は消せます。",
                },
                "plain": "ありがとうございます。",
            },
        }
    )
    reply = template_reply(texts, "dv_safety")
    assert reply is not None and reply.kind == "rule:dv_safety"
    assert (reply.body, reply.discreet_body) == (
        "DV相談です。履歴を消すことができます。",
        "履歴は消せます。",
    )
    plain = template_reply(texts, "plain")
    assert plain is not None and plain.body == plain.discreet_body
    assert template_reply(texts, "missing") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": "x"}, "routing.replies.colour: unknown key"),
        (
            {"after_hours": "{tomorrow}"},
            "routing.replies.after_hours: unknown placeholder {tomorrow}",
        ),
        (
            {"after_hours_discreet": "{program}"},
            "after_hours_discreet: unknown placeholder {program}",
        ),
        ({"queue_ack": "{position"}, "routing.replies.queue_ack: "),
        ({"program": 5}, "routing.replies.program: expected a string"),
        ({"templates": {"t": "{program}"}}, "routing.replies.templates.t: names the program"),
        ({"templates": {"t": "{program_en}"}}, "routing.replies.templates.t: names the program"),
        (
            {"queue_ack_discreet": "{program_en}"},
            "queue_ack_discreet: unknown placeholder {program_en}",
        ),
        ({"templates": {"t": {"text": "a"}}}, "routing.replies.templates.t: expected"),
    ],
)
def test_parse_errors_name_the_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse_replies(raw)


def test_example_config_shows_the_defaults() -> None:
    import tomllib
    from pathlib import Path

    example = Path(__file__).parents[2] / "config.example.toml"
    with example.open("rb") as fh:
        assert parse_replies(tomllib.load(fh)["routing"]["replies"]) == ReplyTexts()


# --- the safety message after urgent triage -----------------------------------------------------


def test_safety_message_for_suicide_risk_names_the_24_hour_lines_in_japanese() -> None:
    reply = safety_reply(TEXTS, "suicide_risk", "ja")
    assert reply is not None and reply.kind == SAFETY
    assert reply.body.startswith("つなぐ市こころの相談です。")
    assert "よりそいホットライン 0120-279-338（24時間・無料）" in reply.body
    assert "いのちの電話 0120-783-556" in reply.body
    assert "119番" in reply.body and "110番" in reply.body
    assert "This is" not in reply.body  # her language only


def test_safety_message_for_danger_gives_the_dv_lines_and_the_police_first() -> None:
    reply = safety_reply(TEXTS, "immediate_danger", None)  # no language known: Japanese
    assert reply is not None
    assert reply.body.index("110番") < reply.body.index("0120-279-889")
    assert "DV相談+ 0120-279-889（24時間・無料" in reply.body and "#8008" in reply.body


def test_safety_message_in_english_when_she_wrote_english() -> None:
    reply = safety_reply(TEXTS, "suicide_risk", "en")
    assert reply is not None
    assert reply.body.startswith("This is Tsunagu City Counseling.")
    assert "0120-279-338" in reply.body and "119" in reply.body
    assert not _JAPANESE.search(reply.body)
    danger = safety_reply(TEXTS, "immediate_danger", "en")
    assert danger is not None and "0120-279-889" in danger.body


@pytest.mark.parametrize("category", ["suicide_risk", "immediate_danger"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_discreet_safety_message_names_no_topic_program_or_dv_line(
    category: str, language: str
) -> None:
    reply = safety_reply(TEXTS, category, language)
    assert reply is not None
    text = reply.discreet_body
    assert "0120-279-338" in text and "110" in text and "119" in text
    for word in ("自殺", "死", "DV", "暴力", "いのち", "相談", "つなぐ", "Tsunagu", "suicide"):
        assert word not in text, word
    assert "0120-279-889" not in text and "#8008" not in text  # DV lines: in a call log, telling


def test_a_category_without_a_safety_message_sends_none() -> None:
    assert safety_reply(TEXTS, "rules:night", "ja") is None
    assert safety_reply(TEXTS, "other", "ja") is None


def test_safety_texts_from_config() -> None:
    texts = parse_replies(
        {
            "program": "つなぐ",
            "safety": {
                "suicide_risk": {"ja": "{program}です。0120-000-000へ。"},
                "immediate_danger": {"enabled": False},
                "self_harm": {"ja": "自傷", "en": "self-harm", "ja_discreet": "連絡先"},
            },
        }
    )
    suicide = safety_reply(texts, "suicide_risk", "ja")
    assert suicide is not None and suicide.body == "つなぐです。0120-000-000へ。"
    english = safety_reply(texts, "suicide_risk", "en")
    assert english is not None and "Yorisoi" in english.body  # the default English stays
    assert safety_reply(texts, "immediate_danger", "ja") is None
    own = safety_reply(texts, "self_harm", "ja")
    assert own is not None and own.body == "自傷" and own.discreet_body == "連絡先"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"suicide_risk": {"ja_discreet": "{program}"}}, "unknown placeholder {program}"),
        ({"suicide_risk": {"jp": "x"}}, "suicide_risk.jp: unknown key"),
        ({"self_harm": {"ja": "x"}}, "self_harm.en: required"),
        ({"suicide_risk": "x"}, "expected a table"),
        ({"suicide_risk": {"enabled": "no"}}, "enabled: expected true or false"),
    ],
)
def test_bad_safety_config_is_refused(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_replies({"safety": raw})


def test_one_language_versions_only_while_the_texts_are_the_defaults() -> None:
    assert parse_replies({}).after_hours_by_language == DEFAULT_AFTER_HOURS_BY_LANGUAGE
    assert parse_replies({"program": "つなぐ"}).queue_ack_by_language  # a name is a placeholder
    own_text = parse_replies({"after_hours": "{program}: {next_opening_ja}"})
    assert own_text.after_hours_by_language == ()  # the halves would not say what hers says
    assert own_text.queue_ack_by_language == DEFAULT_QUEUE_ACK_BY_LANGUAGE
    own_line = parse_replies({"emergency": "〇〇市DV相談 0120-000-000"})
    assert own_line.after_hours_by_language == own_line.queue_ack_by_language == ()


def test_the_one_language_versions_are_the_halves_of_the_defaults() -> None:
    hours = parse_service_hours({"weekdays": ["09:00-17:00"]}, "h")
    reply = after_hours_reply(ReplyTexts(), hours, datetime(2026, 11, 21, 3, tzinfo=UTC))
    assert reply is not None
    (ja, ja_body, ja_discreet), (en, en_body, en_discreet) = reply.by_language
    assert (ja, en) == ("ja", "en")
    assert ja_body.split("\n")[0] in reply.body and en_body.split("\n")[0] in reply.body
    assert "This" not in ja_body and "受け付け" not in en_body and "相談窓口" not in ja_discreet
    assert "11月24日(火) 09:00" in ja_body and "Tue 24 Nov 09:00" in en_discreet
    ack = queue_ack_reply(ReplyTexts(), 2, None)
    assert ack is not None
    assert [lang for lang, _, _ in ack.by_language] == ["ja", "en"]
    assert "2番目" in ack.by_language[0][1] and "number 2" in ack.by_language[1][1]


# --- the on-call message ----------------------------------------------------------------------


def test_on_call_message_says_a_counselor_is_reading_now_in_her_language() -> None:
    ja = on_call_reply(TEXTS, "ja")
    assert ja is not None and ja.kind == ON_CALL
    assert ja.body.startswith("つなぐ市こころの相談です。")
    assert "いま相談員があなたのメッセージを読んでいます" in ja.body
    assert "This is" not in ja.body and ja.by_language == ()  # what she wrote decides
    en = on_call_reply(TEXTS, "en")
    assert en is not None and en.body.startswith("This is Tsunagu City Counseling.")
    assert "A counselor is reading it now" in en.body and not _JAPANESE.search(en.body)
    # No tomorrow, no opening, no place in line: it stands in for those texts.
    for reply in (ja, en):
        assert "以降" not in reply.body and "from" not in reply.body and "番目" not in reply.body
        assert reply.supersedes == (AFTER_HOURS, QUEUE_ACK)


def test_on_call_message_in_both_languages_when_hers_is_not_known() -> None:
    both = on_call_reply(TEXTS, None)
    assert both is not None
    assert "読んでいます" in both.body and "reading it now" in both.body
    # ... with the one-language halves for a chat whose language is set (claim_auto_reply)
    assert [lang for lang, _, _ in both.by_language] == ["ja", "en"]
    ja = on_call_reply(TEXTS, "ja")
    assert ja is not None and both.by_language[0][1] == ja.body
    other = on_call_reply(TEXTS, "vi")
    assert other is not None and other.body == both.body


@pytest.mark.parametrize("language", ["ja", "en", None])
def test_discreet_on_call_message_is_neutral(language: str | None) -> None:
    reply = on_call_reply(TEXTS, language)
    assert reply is not None
    text = reply.discreet_body
    assert "読んでいます" in text or "reading it now" in text
    for word in ("相談", "つなぐ", "Tsunagu", "counsel", "自殺", "DV"):
        assert word not in text, word


def test_on_call_message_from_config_and_turned_off() -> None:
    texts = parse_replies(
        {
            "program": "つなぐ",
            "on_call": "{program}: 当番の相談員が読んでいます / {program_en}: reading now",
            "on_call_discreet": "読んでいます / reading now",
        }
    )
    own = on_call_reply(texts, "ja")  # no one-language halves of a program's own text
    assert (
        own is not None
        and own.body == "つなぐ: 当番の相談員が読んでいます / the consultation service: reading now"
    )
    assert own.discreet_body == "読んでいます / reading now" and own.by_language == ()
    assert on_call_reply(parse_replies({"on_call": ""}), "ja") is None
    # A program's own name keeps the one-language defaults: the name is a placeholder.
    named = on_call_reply(parse_replies({"program": "つなぐ"}), "ja")
    assert named is not None and named.body.startswith("つなぐです。")
    with pytest.raises(ConfigError, match=r"on_call_discreet: unknown placeholder \{program\}"):
        parse_replies({"on_call_discreet": "{program}"})
    with pytest.raises(ConfigError, match=r"on_call: unknown placeholder \{position\}"):
        parse_replies({"on_call": "{position}"})
