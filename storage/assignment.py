"""Counselors and the queue: the RoutingStore operations both stores share, written once.

The router's own two (routing_snapshot, apply_assignments) are hand-written per dialect, for
speed (storage/sqlite/routing.py, storage/postgres/routing.py). On PostgreSQL every change here
to a counselor's load or availability first locks her users row (FOR NO KEY UPDATE), as
apply_assignments does, so routers on several instances and a supervisor's change queue behind
each other instead of exceeding a capacity; SQLite's writer is alone (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import json
from datetime import datetime

from inbox.core.decisions import QueueDepth
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    CounselorUpdate,
    User,
    UserId,
)
from storage import events, rows
from storage.accounts import GET_USER
from storage.desk import CONVERSATION_COLUMNS, INSERT_NOTE, LOCK_CONVERSATION
from storage.events import EventRow
from storage.routing_rows import counselor_columns
from storage.sql import Database, Dialects, Tx

# Phone staff have a routing profile too (presence, capacity, shift): the router offers them
# callbacks.
_STAFF = "SELECT is_counselor OR is_phone_staff FROM users WHERE id = $1"
LOCK_USER = Dialects(postgres=f"{_STAFF} FOR NO KEY UPDATE", sqlite=_STAFF)
UPDATE_COUNSELOR = "UPDATE users SET {sets} WHERE id = $1"
MARK_OPENED = """
UPDATE conversations SET opened_at = $3
WHERE id = $1 AND assignee_id = $2 AND opened_at IS NULL AND status <> 'closed'
RETURNING id
"""
# SKIP LOCKED: another instance handling the same offers takes the others.
LAPSED_OFFERS = Dialects(
    postgres="""
SELECT id, assignee_id FROM conversations
WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < $1
ORDER BY offered_at LIMIT $2 FOR UPDATE SKIP LOCKED
""",
    sqlite="""
SELECT id, assignee_id FROM conversations
WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < $1 ORDER BY offered_at LIMIT $2
""",
)
# Back to the queue at its old place (queued_at unchanged), never again to the one who let it
# lapse: she joins declined_by (bigint[] on PostgreSQL, a JSON array on SQLite).
REQUEUE_LAPSED = Dialects(
    postgres="""
UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
    updated_at = $1, declined_by = array_append(declined_by, $2::bigint)
WHERE id = $3
""",
    sqlite="""
UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
    updated_at = $1,
    declined_by = (SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(declined_by) UNION SELECT $2))
WHERE id = $3
""",
)
REQUEUE = f"""
UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
    opened_at = NULL, updated_at = $2
WHERE id = $1
RETURNING {CONVERSATION_COLUMNS}
"""
# Pausing (or resuming) sets since when (updated_at) and who paused it (NULL once resumed); a
# pause of a paused channel changes neither: the pause began when it began.
SET_PAUSED = """
INSERT INTO channel_settings (channel, paused, paused_by, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (channel) DO UPDATE SET paused = $2, paused_by = $3, updated_at = $4
WHERE channel_settings.paused <> excluded.paused
"""
PAUSED = "SELECT channel FROM channel_settings WHERE paused ORDER BY channel"
# By conversations_queue (status first); a partial index on callback_due_at of queued phone
# conversations would serve it directly, should the queue grow long (the router asks only when
# its snapshot's page is full).
NEXT_CALLBACK_DUE = """
SELECT min(callback_due_at) FROM conversations
WHERE status = 'queued' AND assignee_id IS NULL AND channel = 'phone' AND callback_due_at > $1
"""
# The consulters waiting now ($1: now). A callback not yet due (callback_due_at > now) is left
# out: no one owes her anything before its time, and counted from when she called it would
# show the board an hours-old wait that is only a scheduled call. Once due, a callback waits
# from its due time (the later of the two; a try logged moved it on), not from her first call.
QUEUE_DEPTH = """
SELECT channel, priority, count(*),
       min(CASE WHEN callback_due_at > queued_at THEN callback_due_at ELSE queued_at END)
FROM conversations
WHERE status = 'queued' AND assignee_id IS NULL
  AND (callback_due_at IS NULL OR callback_due_at <= $1)
GROUP BY channel, priority ORDER BY priority DESC, channel
"""


class Assignment:
    """The RoutingStore operations of both stores besides the router's snapshot and apply."""

    _db: Database

    async def update_counselor(
        self, user_id: UserId, change: CounselorUpdate, *, actor_id: UserId, now: datetime
    ) -> User:
        async def op(tx: Tx) -> User:
            is_counselor = await tx.fetchval(LOCK_USER, user_id)
            if is_counselor is None:
                raise NotFound(f"user {user_id} does not exist")
            if not is_counselor:
                raise Conflict(f"user {user_id} is not a counselor (nor phone staff)")
            columns = counselor_columns(change)
            if columns:
                await tx.execute(_update_counselor(columns), user_id, *_encoded(columns))
                data = {"user_id": user_id, "fields": change.changed()}
                await events.record(tx, "counselor_updated", now, actor_id=actor_id, data=data)
            row = await tx.fetchrow(GET_USER, user_id)
            assert row is not None
            return rows.user(row, tx.parse_time)

        return await self._db.write(op)

    async def mark_opened(
        self, conversation_id: ConversationId, user_id: UserId, *, now: datetime
    ) -> bool:
        async def op(tx: Tx) -> bool:
            if await tx.fetchrow(MARK_OPENED, conversation_id, user_id, now) is None:
                return False
            await events.record(
                tx, "offer_opened", now, actor_id=user_id, conversation_id=conversation_id
            )
            return True

        return await self._db.write(op)

    async def requeue_lapsed_offers(
        self, *, offered_before: datetime, now: datetime, limit: int = 500
    ) -> list[tuple[ConversationId, UserId]]:
        async def op(tx: Tx) -> list[tuple[ConversationId, UserId]]:
            found = await tx.fetch(LAPSED_OFFERS, offered_before, limit)
            lapsed = [(ConversationId(r[0]), UserId(r[1])) for r in found]
            await tx.executemany(REQUEUE_LAPSED, [(now, u, c) for c, u in lapsed])
            await events.record_many(
                tx,
                [
                    EventRow(now, "offer_lapsed", conversation_id=c, data=_user_data(u))
                    for c, u in lapsed
                ],
            )
            return lapsed

        return await self._db.write(op)

    async def requeue(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        note: str | None = None,
    ) -> Conversation:
        async def op(tx: Tx) -> Conversation:
            row = await tx.fetchrow(LOCK_CONVERSATION, conversation_id)
            if row is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            if row[3] == "closed":
                raise Conflict(f"conversation {conversation_id} is closed")
            if note:
                await tx.execute(INSERT_NOTE, conversation_id, note, actor_id, now)
            found = await tx.fetchrow(REQUEUE, conversation_id, now)
            assert found is not None
            data = {"from_user_id": row[5], "handover_note": bool(note)}
            await events.record(
                tx,
                "conversation_requeued",
                now,
                actor_id=actor_id,
                conversation_id=conversation_id,
                data=data,
            )
            return rows.conversation(found, tx.parse_time)

        return await self._db.write(op)

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        async def op(tx: Tx) -> None:
            await tx.execute(SET_PAUSED, channel.value, paused, actor_id if paused else None, now)
            kind = "channel_paused" if paused else "channel_resumed"
            await events.record(tx, kind, now, actor_id=actor_id, data={"channel": channel.value})

        await self._db.write(op)

    async def paused_channels(self) -> frozenset[ChannelKind]:
        found = await self._db.read(lambda tx: tx.fetch(PAUSED))
        return frozenset(ChannelKind(r[0]) for r in found)

    async def next_callback_due(self, *, after: datetime) -> datetime | None:
        found = await self._db.read(lambda tx: tx.fetchval(NEXT_CALLBACK_DUE, after))
        return None if found is None else self._db.parse_time(found)

    async def queue_depth(self, *, now: datetime) -> list[QueueDepth]:
        found = await self._db.read(lambda tx: tx.fetch(QUEUE_DEPTH, now))
        parse = self._db.parse_time
        return [
            QueueDepth(channel=ChannelKind(r[0]), priority=r[1], count=r[2], oldest=parse(r[3]))
            for r in found
        ]


def _user_data(user_id: int) -> str:
    return events.data_json({"user_id": user_id})


def _update_counselor(columns: list[tuple[str, object]]) -> Dialects:
    """The UPDATE for these columns; PostgreSQL reads the JSON ones as jsonb."""
    jsonb = {name for name, value in columns if isinstance(value, dict) or name == "shift"}
    marks = [(name, f"${i}") for i, (name, _) in enumerate(columns, start=2)]
    return Dialects(
        postgres=UPDATE_COUNSELOR.format(
            sets=", ".join(f"{n} = {m}{'::jsonb' if n in jsonb else ''}" for n, m in marks)
        ),
        sqlite=UPDATE_COUNSELOR.format(sets=", ".join(f"{n} = {m}" for n, m in marks)),
    )


def _encoded(columns: list[tuple[str, object]]) -> list[object]:
    return [json.dumps(value) if isinstance(value, dict) else value for _, value in columns]
