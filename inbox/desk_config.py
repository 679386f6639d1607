"""The [desk] section: the tags a counselor chooses from and the words of every label the
console shows, in Japanese and English (inbox.core.tags has the defaults)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from inbox.core.errors import ConfigError
from inbox.core.tags import DEFAULT_TAGS, MAX_TAG_CHARS, MAX_TAGS, SYSTEM_LABELS, TagBook, TagLabel

_ID = re.compile(r"[a-z0-9_]{1,40}")


def _label(raw: object, where: str) -> TagLabel:
    if not isinstance(raw, dict) or set(raw) != {"id", "ja", "en"}:
        raise ConfigError(f'{where}: expected {{ id = "dv", ja = "DV", en = "Domestic violence" }}')
    if not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise ConfigError(f"{where}: id, ja and en must be non-empty strings")
    if not _ID.fullmatch(raw["id"]):
        raise ConfigError(f"{where}.id: 1-40 of a-z, 0-9 and _, got {raw['id']!r}")
    return TagLabel(id=raw["id"], ja=raw["ja"].strip(), en=raw["en"].strip())


def _labels(raw: object, where: str) -> tuple[TagLabel, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of {{ id, ja, en }} tables")
    found = tuple(_label(item, f"{where}[{i}]") for i, item in enumerate(raw))
    ids = [t.id for t in found]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where}: an id is listed twice")
    return found


def parse_tags(raw: object, where: str) -> tuple[TagLabel, ...]:
    """[desk].tags replaces the default list."""
    return _labels(raw, where)


def parse_labels(raw: object, where: str) -> tuple[TagLabel, ...]:
    """[desk].labels adds labels (a triage category of your own) or changes the defaults' words."""
    given = {t.id: t for t in _labels(raw, where)}
    defaults = tuple(given.pop(t.id, t) for t in SYSTEM_LABELS)
    return defaults + tuple(given.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskConfig:
    tags: tuple[TagLabel, ...] = field(default=DEFAULT_TAGS, metadata={"parse": parse_tags})
    labels: tuple[TagLabel, ...] = field(default=SYSTEM_LABELS, metadata={"parse": parse_labels})
    max_tags: int = field(default=MAX_TAGS, metadata={"min": 1, "max": 100})
    max_tag_chars: int = field(default=MAX_TAG_CHARS, metadata={"min": 1, "max": 200})

    def book(self) -> TagBook:
        return TagBook(
            tags=self.tags,
            labels=self.labels,
            max_tags=self.max_tags,
            max_tag_chars=self.max_tag_chars,
        )
