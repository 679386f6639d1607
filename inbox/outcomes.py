"""How a conversation ended: the program's short list of outcomes ([closing] outcomes), each with
its words in Japanese and English, and checking an outcome a counselor chose against it."""

from __future__ import annotations

from inbox.core.errors import TooLarge, ValidationError
from inbox.core.labels import Label, parse_labels

# A counseling desk's usual endings (DOMAIN.md: referral is the outcome that counts).
DEFAULT_OUTCOMES: tuple[Label, ...] = (
    Label(id="listened", ja="傾聴・助言で終了", en="Listened and advised"),
    Label(id="information", ja="情報提供", en="Information given"),
    Label(id="referred", ja="他機関を紹介（連携）", en="Referred to a partner agency"),
    Label(id="accompaniment", ja="同行支援・面談へ", en="Accompaniment or meeting arranged"),
    Label(id="follow_up", ja="継続支援（次回あり）", en="Ongoing support, follow-up planned"),
    Label(id="lost_contact", ja="連絡が途絶えた", en="Contact lost"),
    Label(id="other", ja="その他", en="Other"),
)
NOTE_MAX_CHARS = 2000


def parse_outcomes(raw: object, where: str) -> tuple[Label, ...]:
    """[closing].outcomes: at least one; ids are stored on the conversation, keep them stable."""
    return parse_labels(raw, where, at_least_one=True)


def checked_outcome(outcomes: tuple[Label, ...], value: object) -> str:
    """The outcome id a closing request chose; ValidationError naming the field otherwise."""
    allowed = ", ".join(o.id for o in outcomes)
    if not isinstance(value, str) or not value:
        raise ValidationError(
            f"required: how the conversation ended, one of {allowed}", field="outcome"
        )
    if all(o.id != value for o in outcomes):
        raise ValidationError(
            f"unknown outcome {value[:40]!r}; allowed: {allowed}", field="outcome"
        )
    return value


def checked_note(value: object) -> str | None:
    """An optional closing note: a string up to NOTE_MAX_CHARS, blank meaning none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("a string, or null for no note", field="note")
    if len(value) > NOTE_MAX_CHARS:
        raise TooLarge(f"at most {NOTE_MAX_CHARS} characters, got {len(value)}", field="note")
    return value.strip() or None
