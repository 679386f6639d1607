"""The counselor's context: a consulter's conversations as one timeline, and search over
conversations (records, the alias read back to its contact, the snippet around a hit)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from inbox.core.model import (
    ChannelKind,
    ContactId,
    Conversation,
    ConversationStatus,
    MessageId,
    UserId,
    contact_alias,
)

# Words shorter than this cannot use a trigram index (SQLite FTS5 trigram, pg_trgm).
TRIGRAM = 3
SNIPPET_CHARS = 40  # on each side of the hit


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationSummary:
    """One conversation as a line of a timeline or of search results."""

    conversation: Conversation
    # Who handled it: the assignee, else whoever last replied; None when no one has yet.
    handled_by: UserId | None
    handled_by_name: str | None
    message_count: int  # hers and the replies, not internal notes


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuery:
    """What to look for; every filter given must hold. Empty tuples and None filter nothing."""

    text: str | None = None  # a substring of some message (notes included), any case of ASCII
    contact_id: ContactId | None = None  # by alias: contact_id_of(alias)
    tag: str | None = None
    statuses: tuple[ConversationStatus, ...] = ()
    channels: tuple[ChannelKind, ...] = ()
    created_from: datetime | None = None  # the conversation began at or after this ...
    created_before: datetime | None = None  # ... and before this
    visible_to: UserId | None = None  # a counselor: assigned to her now, or she wrote in it
    before: int | None = None  # the cursor a previous page gave (SearchPage.next_before)
    limit: int = 20
    # A text under TRIGRAM characters is looked for in this many latest messages only.
    recent_messages: int = 20000


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    summary: ConversationSummary
    message_id: MessageId | None = None  # with a text: its newest message that has it
    snippet: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPage:
    """Newest first: by the newest matching message with a text, else by conversation."""

    hits: list[SearchHit] = field(default_factory=list)
    next_before: int | None = None  # pass as SearchQuery.before for the next page; None: last
    scope: Literal["all", "recent"] = "all"  # recent: a short text searched recent messages


_ALIAS_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALIAS_SPACE = 32**5
_ALIAS_INVERSE = pow(0x2C9277B5, -1, _ALIAS_SPACE)


def contact_id_of(alias: str) -> ContactId | None:
    """The contact an alias names (inbox.core.model.contact_alias read back), or None when the
    text is not an alias. Takes 相談者-4F2KQ, 4F2KQ, lowercase and full-width forms."""
    text = unicodedata.normalize("NFKC", alias).strip().upper()
    text = text.removeprefix("相談者").lstrip("-－ ")
    if len(text) < 5 or not text[-5:].isascii():
        return None
    prefix, code = text[:-5], text[-5:]
    if prefix and not (prefix.isascii() and prefix.isdigit()):
        return None
    scrambled = 0
    for char in code:
        digit = _ALIAS_ALPHABET.find(char)
        if digit < 0:
            return None
        scrambled = scrambled * 32 + digit
    low = ((scrambled - 0x5A5A5) * _ALIAS_INVERSE) % _ALIAS_SPACE
    if len(prefix) > 12:  # beyond any id a database column holds
        return None
    contact_id = int(prefix or "0") * _ALIAS_SPACE + low
    if contact_id == 0 or contact_alias(contact_id) != f"相談者-{prefix}{code}":
        return None
    return ContactId(contact_id)


def snippet(body: str, text: str, *, width: int = SNIPPET_CHARS) -> str:
    """`width` characters either side of the first place `text` occurs (ASCII case ignored),
    with an ellipsis where the body goes on; the body's start when it does not occur."""
    at = body.lower().find(text.lower()) if text else -1
    flat = " ".join(body.split())  # line breaks and runs of spaces read badly in one line
    if at < 0:
        return flat[: 2 * width] + ("…" if len(flat) > 2 * width else "")
    # find again in the flattened text: whitespace runs moved the offset
    at = max(flat.lower().find(" ".join(text.split()).lower()), 0)
    start, end = max(at - width, 0), min(at + len(text) + width, len(flat))
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def like_pattern(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its wildcards escaped (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: with the trigram tokenizer, any substring of it."""
    return '"' + text.replace('"', '""') + '"'
