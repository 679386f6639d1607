"""How a conversation ended: the program's short list of outcomes ([closing] outcomes), each with
its words in Japanese and English, and checking an outcome a counselor chose against it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from inbox.core.errors import ConfigError, TooLarge, ValidationError


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    id: str  # stable: stored on the conversation and counted in reports
    ja: str
    en: str


# A counseling desk's usual endings (DOMAIN.md: referral is the outcome that counts).
DEFAULT_OUTCOMES: tuple[Outcome, ...] = (
    Outcome(id="listened", ja="傾聴・助言で終了", en="Listened and advised"),
    Outcome(id="information", ja="情報提供", en="Information given"),
    Outcome(id="referred", ja="他機関を紹介（連携）", en="Referred to a partner agency"),
    Outcome(id="accompaniment", ja="同行支援・面談へ", en="Accompaniment or meeting arranged"),
    Outcome(id="follow_up", ja="継続支援（次回あり）", en="Ongoing support, follow-up planned"),
    Outcome(id="lost_contact", ja="連絡が途絶えた", en="Contact lost"),
    Outcome(id="other", ja="その他", en="Other"),
)
NOTE_MAX_CHARS = 2000
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")


def parse_outcomes(raw: object, where: str) -> tuple[Outcome, ...]:
    """[[closing.outcomes]] tables: {id, ja, en}; at least one, ids unique."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: expected a non-empty list of {{id, ja, en}} tables")
    out: list[Outcome] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict) or set(item) != {"id", "ja", "en"}:
            raise ConfigError(f"{at}: expected a table with exactly id, ja and en")
        if not all(isinstance(v, str) and v.strip() for v in item.values()):
            raise ConfigError(f"{at}: id, ja and en must be non-empty strings")
        if not _ID.fullmatch(item["id"]):
            raise ConfigError(f"{at}.id: {item['id']!r} must be lowercase ascii, digits and _")
        if any(o.id == item["id"] for o in out):
            raise ConfigError(f"{at}.id: {item['id']!r} is listed twice")
        out.append(Outcome(id=item["id"], ja=item["ja"].strip(), en=item["en"].strip()))
    return tuple(out)


def checked_outcome(outcomes: tuple[Outcome, ...], value: object) -> str:
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
