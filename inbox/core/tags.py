"""Conversation tags: the configured list with its words in Japanese and English, the labels
triage and the system set (never shown as raw ids), and how a tag from a person is cleaned.

Stdlib only. A configured tag is stored by its id (`dv`); a free tag by its cleaned text. A
person who types a configured tag's id or either of its words gets the configured tag.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from inbox.core.errors import TooLarge, ValidationError
from inbox.core.labels import Label

# A counseling desk's usual topics; [desk].tags in config.toml replaces them.
DEFAULT_TAGS: tuple[Label, ...] = (
    Label(id="dv", ja="DV", en="Domestic violence"),
    Label(id="poverty", ja="生活困窮", en="Financial hardship"),
    Label(id="work", ja="仕事", en="Work"),
    Label(id="family", ja="家族・子育て", en="Family and parenting"),
    Label(id="health", ja="心身の健康", en="Mental and physical health"),
    Label(id="sexual_violence", ja="性暴力", en="Sexual violence"),
    Label(id="housing", ja="住まい", en="Housing"),
    Label(id="isolation", ja="孤独・孤立", en="Loneliness and isolation"),
    Label(id="relationships", ja="人間関係", en="Relationships"),
    Label(id="abuse", ja="虐待", en="Abuse"),
    Label(id="debt", ja="借金", en="Debt"),
    Label(id="lgbtq", ja="性のあり方", en="Gender and sexuality"),
)
# What triage and the system write (routing.rules: the urgent tag and each keyword category).
# They are kept when a person sets a conversation's tags: triage's finding stays on record.
# [desk].labels in config.toml adds to these or changes their words.
SYSTEM_LABELS: tuple[Label, ...] = (
    Label(id="urgent", ja="緊急", en="Urgent"),
    Label(id="suicide_risk", ja="自殺の危険", en="Suicide risk"),
    Label(id="immediate_danger", ja="差し迫った危険", en="Immediate danger"),
)
MAX_TAGS = 20  # defaults of [desk].max_tags and max_tag_chars
MAX_TAG_CHARS = 40


def clean_tag(raw: str) -> str:
    """NFKC (full-width Ｄ Ｖ becomes DV, half-width kana whole), trimmed, inner runs of white
    space one space, control characters dropped."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class TagBook:
    """The configured tags and the system labels, and the limits of a conversation's tags."""

    tags: tuple[Label, ...] = DEFAULT_TAGS
    labels: tuple[Label, ...] = SYSTEM_LABELS
    max_tags: int = MAX_TAGS
    max_tag_chars: int = MAX_TAG_CHARS

    def _aliases(self) -> dict[str, str]:
        """Each configured tag's id and words, casefolded, to its id."""
        found: dict[str, str] = {}
        for tag in self.tags:
            for name in (tag.en, tag.ja, tag.id):  # the id wins a clash
                found[clean_tag(name).casefold()] = tag.id
        return found

    def is_system(self, tag: str) -> bool:
        return any(label.id == tag for label in self.labels)

    def normalize(self, raw: object) -> list[str]:
        """A person's list of tags, cleaned (clean_tag), configured ones by their id, each once
        (case-insensitively, the first spelling kept), in the given order. System labels cannot
        be set by hand: they are left out (the store keeps those the conversation has).
        Raises ValidationError (field "tags") for a list that is not one of strings, a tag
        empty after cleaning, or TooLarge for more than max_tags or a tag over max_tag_chars."""
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise ValidationError("required, a list of strings", field="tags")
        if len(raw) > self.max_tags:
            raise TooLarge(f"at most {self.max_tags} tags, got {len(raw)}", field="tags")
        aliases = self._aliases()
        out: dict[str, str] = {}
        for value in raw:
            tag = clean_tag(value)
            if not tag:
                raise ValidationError("a tag is empty", field="tags")
            if len(tag) > self.max_tag_chars:
                raise TooLarge(
                    f"a tag has at most {self.max_tag_chars} characters, got {len(tag)}",
                    field="tags",
                )
            tag = aliases.get(tag.casefold(), tag)
            if not self.is_system(tag):
                out.setdefault(tag.casefold(), tag)
        return list(out.values())
