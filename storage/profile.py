"""A consultation's topics (of a conversation or of a call) and her age group (on her contact),
written once for both stores (issue 17: Topics and profile). Each change writes its event in the
same transaction, with the ids only (topics and age groups are configured or fixed words, never
her text)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from inbox.core.casework import UNKNOWN_AGE
from inbox.core.errors import NotFound
from inbox.core.model import ContactId, ConversationId, UserId
from storage import events
from storage.desk import get_conversation
from storage.sql import Database, Tx

CONVERSATION_TOPICS = (
    "SELECT topic FROM consultation_topics WHERE conversation_id = $1 ORDER BY topic"
)
CALL_TOPICS = "SELECT topic FROM consultation_topics WHERE call_id = $1 ORDER BY topic"
DROP_CONVERSATION_TOPICS = "DELETE FROM consultation_topics WHERE conversation_id = $1"
DROP_CALL_TOPICS = "DELETE FROM consultation_topics WHERE call_id = $1"
ADD_CONVERSATION_TOPIC = "INSERT INTO consultation_topics (conversation_id, topic) VALUES ($1, $2)"
ADD_CALL_TOPIC = "INSERT INTO consultation_topics (call_id, topic) VALUES ($1, $2)"
CALL_CONVERSATION = "SELECT conversation_id FROM calls WHERE id = $1"
AGE_GROUP = "SELECT age_group FROM contacts WHERE id = $1"
SET_AGE_GROUP = "UPDATE contacts SET age_group = $2 WHERE id = $1"


def _topic_change(before: list[str], after: list[str]) -> dict[str, object] | None:
    if before == after:
        return None
    return {
        "topics": after,
        "added": [t for t in after if t not in before],
        "removed": [t for t in before if t not in after],
    }


async def set_conversation_topics(
    tx: Tx,
    conversation_id: ConversationId,
    topics: Collection[str],
    actor_id: UserId,
    now: datetime,
) -> tuple[str, ...]:
    await get_conversation(tx, conversation_id)  # NotFound
    before = [r[0] for r in await tx.fetch(CONVERSATION_TOPICS, conversation_id)]
    after = sorted(set(topics))
    change = _topic_change(before, after)
    if change is not None:
        await tx.execute(DROP_CONVERSATION_TOPICS, conversation_id)
        await tx.executemany(ADD_CONVERSATION_TOPIC, [(conversation_id, t) for t in after])
        await events.record(
            tx, "topics_set", now, actor_id=actor_id, conversation_id=conversation_id, data=change
        )
    return tuple(after)


async def set_call_topics(
    tx: Tx, call_id: int, topics: Collection[str], actor_id: UserId, now: datetime
) -> tuple[str, ...]:
    found = await tx.fetchrow(CALL_CONVERSATION, call_id)
    if found is None:
        raise NotFound(f"call {call_id} does not exist")
    before = [r[0] for r in await tx.fetch(CALL_TOPICS, call_id)]
    after = sorted(set(topics))
    change = _topic_change(before, after)
    if change is not None:
        await tx.execute(DROP_CALL_TOPICS, call_id)
        await tx.executemany(ADD_CALL_TOPIC, [(call_id, t) for t in after])
        await events.record(
            tx,
            "topics_set",
            now,
            actor_id=actor_id,
            conversation_id=found[0],
            data={"call_id": call_id} | change,
        )
    return tuple(after)


async def set_age_group(
    tx: Tx,
    contact_id: ContactId,
    age_group: str | None,
    actor_id: UserId,
    conversation_id: ConversationId | None,
    now: datetime,
) -> str | None:
    stored = None if age_group in (None, UNKNOWN_AGE) else age_group
    found = await tx.fetchrow(AGE_GROUP, contact_id)
    if found is None:
        raise NotFound(f"contact {contact_id} does not exist")
    if found[0] != stored:
        await tx.execute(SET_AGE_GROUP, contact_id, stored)
        await events.record(
            tx,
            "age_group_set",
            now,
            actor_id=actor_id,
            conversation_id=conversation_id,
            data={"age_group": stored or UNKNOWN_AGE, "before": found[0] or UNKNOWN_AGE},
        )
    return stored


class Profile:
    """The ProfileStore operations of both stores, over the store's Database."""

    _db: Database

    async def set_conversation_topics(
        self,
        conversation_id: ConversationId,
        topics: Collection[str],
        *,
        actor_id: UserId,
        now: datetime,
    ) -> tuple[str, ...]:
        return await self._db.write(
            lambda tx: set_conversation_topics(tx, conversation_id, topics, actor_id, now)
        )

    async def set_call_topics(
        self, call_id: int, topics: Collection[str], *, actor_id: UserId, now: datetime
    ) -> tuple[str, ...]:
        return await self._db.write(lambda tx: set_call_topics(tx, call_id, topics, actor_id, now))

    async def conversation_topics(self, conversation_id: ConversationId) -> tuple[str, ...]:
        found = await self._db.read(lambda tx: tx.fetch(CONVERSATION_TOPICS, conversation_id))
        return tuple(r[0] for r in found)

    async def call_topics(self, call_id: int) -> tuple[str, ...]:
        found = await self._db.read(lambda tx: tx.fetch(CALL_TOPICS, call_id))
        return tuple(r[0] for r in found)

    async def set_age_group(
        self,
        contact_id: ContactId,
        age_group: str | None,
        *,
        actor_id: UserId,
        now: datetime,
        conversation_id: ConversationId | None = None,
    ) -> str | None:
        return await self._db.write(
            lambda tx: set_age_group(tx, contact_id, age_group, actor_id, conversation_id, now)
        )

    async def age_group_of(self, contact_id: ContactId) -> str | None:
        found = await self._db.read(lambda tx: tx.fetchrow(AGE_GROUP, contact_id))
        if found is None:
            raise NotFound(f"contact {contact_id} does not exist")
        return None if found[0] is None else str(found[0])
