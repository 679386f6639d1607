"""The satisfaction survey's pure parts: what an answer is, the words of its question on each
channel, and a LINE postback's data. Stdlib only.

The answer's value is kept apart from the conversation (storage.surveys); a token (an HMAC of
the conversation, inbox.survey) stands for her conversation where she holds it outside a
session: the LINE postback and the e-mail link. Only the token's hash is stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from inbox.core.casework import SURVEY_ANSWERS, SURVEY_QUESTION
from inbox.core.model import ChannelKind, ConversationId

LANGUAGES = ("ja", "en")
POSTBACK_PREFIX = "survey="
MAX_TOKEN_CHARS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyAnswer:
    """Her answer, found by her conversation (her chat, her number) or by the token she holds
    (the LINE postback, the e-mail link)."""

    channel: ChannelKind
    answer: int  # 1..4, 1 the best (inbox.core.casework.SURVEY_ANSWERS)
    on_day: date  # the day it was given, in the program's time zone
    asked_since: datetime  # asked before this: expired
    conversation_id: ConversationId | None = None
    token_hash: str | None = None


def language_of(language: str | None) -> str:
    return language if language in LANGUAGES else "ja"


def answer_labels(language: str) -> list[tuple[int, str]]:
    """(answer, its words) in her language, 1 (the best) first."""
    return [(int(a.id), a.en if language == "en" else a.ja) for a in SURVEY_ANSWERS]


MAX_QUICK_LABEL = 20  # LINE's limit on a quick reply button's label


def quick_labels(language: str) -> list[tuple[int, str, str]]:
    """(answer, button label, the words shown as her reply) for LINE's quick reply: a label is at
    most 20 characters, so the one English answer longer than that is said more shortly."""
    found = []
    for n, words in answer_labels(language):
        label = words if len(words) <= MAX_QUICK_LABEL else "Somewhat unsatisfied"
        found.append((n, label, words))
    return found


def question(language: str, *, ja: str = "", en: str = "") -> str:
    """The question, in the program's own words where it wrote them."""
    if language == "en":
        return en or SURVEY_QUESTION.en
    return ja or SURVEY_QUESTION.ja


def body(channel: ChannelKind, language: str, asked: str, *, link_days: int) -> str:
    """The question's message on a channel: the buttons (web chat), the quick reply (LINE) and
    the link (e-mail, added when it is sent: never stored) carry the answers."""
    en = language == "en"
    if channel is ChannelKind.SMS:
        choices = " ".join(f"{n} {label}" for n, label in answer_labels(language))
        how = (
            "If you like, reply with one number from 1 to 4 (anonymous):"
            if en
            else "よろしければ1〜4の数字で返信してください（匿名です）。"
        )
        return f"{asked}\n{how}\n{choices}"
    if channel is ChannelKind.MAIL:
        how = (
            f"If you like, answer with one click on the page below (anonymous; the link works"
            f" once, for {link_days} days)."
            if en
            else f"よろしければ、下のリンクのページでお答えください（匿名です。リンクは"
            f"{link_days}日間、1回だけ使えます）。"
        )
        return f"{asked}\n{how}"
    return asked


def digit_answer(text: str) -> int | None:
    """An SMS that is exactly one digit 1-4 (full-width too, spaces around allowed)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if len(folded) == 1 and folded in "1234":
        return int(folded)
    return None


def postback_data(token: str, answer: int) -> str:
    return f"{POSTBACK_PREFIX}{token}&a={answer}"


def parse_postback(data: str | None) -> tuple[str, int] | None:
    """(token, answer) of a survey postback's data; None for any other data."""
    if data is None or not data.startswith(POSTBACK_PREFIX):
        return None
    token, sep, rest = data[len(POSTBACK_PREFIX) :].partition("&a=")
    if not sep or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    if len(rest) != 1 or rest not in "1234":
        return None
    return token, int(rest)
