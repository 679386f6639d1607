"""The [casework] section: the consultation topics counselors record on a conversation or a call
(inbox.core.casework.DEFAULT_TOPICS unless given), each stored by its id and counted by the
report."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbox.core.casework import DEFAULT_TOPICS
from inbox.core.labels import Label, parse_labels


def parse_topics(raw: object, where: str) -> tuple[Label, ...]:
    """[casework].topics replaces the default list."""
    return parse_labels(raw, where)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseworkConfig:
    topics: tuple[Label, ...] = field(default=DEFAULT_TOPICS, metadata={"parse": parse_topics})

    def topic_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.topics)
