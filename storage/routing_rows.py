"""Routing rows to snapshot records, and the capacity check both stores apply under a lock."""

from __future__ import annotations

from collections.abc import Sequence

from inbox.model import AgentLoad, Assign, ChannelKind, ConversationId, UserId, WaitingConversation
from storage.rows import Row, TimeParser


def waiting_from_rows(found: Sequence[Row], parse: TimeParser) -> tuple[WaitingConversation, ...]:
    """Columns: id, channel, priority, queued_at."""
    return tuple(
        WaitingConversation(
            id=ConversationId(r[0]),
            channel=ChannelKind(r[1]),
            priority=r[2],
            waiting_since=parse(r[3]),
        )
        for r in found
    )


def agents_from_rows(found: Sequence[Row]) -> tuple[AgentLoad, ...]:
    """Columns: user id, capacity, load."""
    return tuple(AgentLoad(user_id=UserId(r[0]), capacity=r[1], load=r[2]) for r in found)


def fit_assignments(
    assigns: Sequence[Assign], *, queued: set[int], enabled: set[int], load: dict[int, int]
) -> list[Assign]:
    """The assignments that still hold against the current state, counting each one taken."""
    applied: list[Assign] = []
    load = dict(load)
    for a in assigns:
        current = load.get(a.user_id, 0)
        if a.conversation_id in queued and a.user_id in enabled and current < a.capacity:
            applied.append(a)
            load[a.user_id] = current + 1
            queued.discard(a.conversation_id)
    return applied
