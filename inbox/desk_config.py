"""The [desk] section: the tags a counselor chooses from and the words of every label the
console shows, in Japanese and English (inbox.core.tags has the defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbox.core.labels import Label, parse_labels
from inbox.core.tags import DEFAULT_TAGS, MAX_TAG_CHARS, MAX_TAGS, SYSTEM_LABELS, TagBook


def parse_tags(raw: object, where: str) -> tuple[Label, ...]:
    """[desk].tags replaces the default list."""
    return parse_labels(raw, where)


def parse_desk_labels(raw: object, where: str) -> tuple[Label, ...]:
    """[desk].labels adds labels (a triage category of your own) or changes the defaults' words."""
    given = {t.id: t for t in parse_labels(raw, where)}
    defaults = tuple(given.pop(t.id, t) for t in SYSTEM_LABELS)
    return defaults + tuple(given.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskConfig:
    tags: tuple[Label, ...] = field(default=DEFAULT_TAGS, metadata={"parse": parse_tags})
    labels: tuple[Label, ...] = field(default=SYSTEM_LABELS, metadata={"parse": parse_desk_labels})
    max_tags: int = field(default=MAX_TAGS, metadata={"min": 1, "max": 100})
    max_tag_chars: int = field(default=MAX_TAG_CHARS, metadata={"min": 1, "max": 200})

    def book(self) -> TagBook:
        return TagBook(
            tags=self.tags,
            labels=self.labels,
            max_tags=self.max_tags,
            max_tag_chars=self.max_tag_chars,
        )
