"""Conversations and messages on SQLite: reading them, replies, notes, assigning and closing;
the SqliteStore methods, each in one transaction on the store's connection."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

import aiosqlite

from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
    MessageId,
    UserId,
)
from storage import rows
from storage.rows import format_text_time as _ts
from storage.rows import parse_text_time as _parse
from storage.sqlite import sql as q
from storage.sqlite.base import SqliteBase


class SqliteConversations(SqliteBase):
    async def get_conversation(self, conversation_id: ConversationId) -> Conversation:
        found = await self._all(q.GET_CONVERSATION, (conversation_id,))
        if not found:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return rows.conversation(found[0], _parse)

    async def list_conversations(
        self,
        *,
        statuses: Collection[ConversationStatus],
        visible_to: UserId | None = None,
        channels: Collection[ChannelKind] | None = None,
        limit: int = 200,
    ) -> list[Conversation]:
        where = ["status IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [json.dumps([str(s) for s in statuses])]
        if visible_to is not None:
            where.append("(assignee_id = ? OR (assignee_id IS NULL AND status = 'queued'))")
            params.append(visible_to)
        if channels is not None:
            where.append("channel IN (SELECT value FROM json_each(?))")
            params.append(json.dumps([str(c) for c in channels]))
        sql = (
            f"SELECT {q.CONVERSATION_COLUMNS} FROM conversations WHERE {' AND '.join(where)} "
            f"{q.QUEUE_ORDER} LIMIT ?"
        )
        return [rows.conversation(r, _parse) for r in await self._all(sql, [*params, limit])]

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        await self.get_conversation(conversation_id)
        sql = q.LIST_MESSAGES.format(notes="" if include_notes else "AND direction <> 'note'")
        return [rows.message(r, _parse) for r in await self._all(sql, (conversation_id, limit))]

    async def get_message(self, message_id: MessageId) -> Message:
        found = []
        if rows.id_fits(message_id):  # an id from a URL may exceed the column
            found = await self._all(q.GET_MESSAGE, (message_id,))
        if not found:
            raise NotFound(f"message {message_id} does not exist")
        return rows.message(found[0], _parse)

    async def _open_conversation(
        self, db: aiosqlite.Connection, conversation_id: ConversationId
    ) -> Conversation:
        async with db.execute(q.GET_CONVERSATION, (conversation_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        conv = rows.conversation(row, _parse)
        if conv.status is ConversationStatus.CLOSED:
            raise Conflict(f"conversation {conversation_id} is closed")
        return conv

    async def _insert_message(
        self,
        db: aiosqlite.Connection,
        conv: Conversation,
        direction: Direction,
        author_id: UserId,
        body: str,
        now: datetime,
    ) -> MessageId:
        status = DeliveryStatus.PENDING if direction is Direction.OUTBOUND else DeliveryStatus.NONE
        async with db.execute(
            q.INSERT_MESSAGE,
            (conv.id, direction, conv.channel, body, author_id, status, _ts(now)),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return MessageId(row[0])

    async def _get_message(self, db: aiosqlite.Connection, message_id: MessageId) -> Message:
        sql = f"SELECT {q.MESSAGE_COLUMNS} FROM messages WHERE id = ?"
        async with db.execute(sql, (message_id,)) as cur:
            row = await cur.fetchone()
        assert row is not None
        return rows.message(row, _parse)

    async def add_reply(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async with self._tx() as db:
            conv = await self._open_conversation(db, conversation_id)
            mid = await self._insert_message(db, conv, Direction.OUTBOUND, author_id, body, now)
            await db.execute(q.INSERT_OUTBOX, (mid, _ts(now), _ts(now), _ts(now)))
            await db.execute(q.REPLIED, (_ts(now), conv.id))
            await self._event(
                db, "reply_queued", now, actor_id=author_id, conversation_id=conv.id, message_id=mid
            )
            return await self._get_message(db, mid)

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async with self._tx() as db:
            async with db.execute(q.GET_CONVERSATION, (conversation_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            conv = rows.conversation(row, _parse)
            mid = await self._insert_message(db, conv, Direction.NOTE, author_id, body, now)
            await self._event(
                db, "note_added", now, actor_id=author_id, conversation_id=conv.id, message_id=mid
            )
            return await self._get_message(db, mid)

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
    ) -> Conversation:
        async with self._tx() as db:
            conv = await self._open_conversation(db, conversation_id)
            async with db.execute(q.ENABLED_COUNSELORS, (json.dumps([user_id]),)) as cur:
                if await cur.fetchone() is None:
                    raise Conflict(f"user {user_id} is not an enabled counselor")
            if capacity is not None and conv.assignee_id != user_id:
                async with db.execute(q.LOAD_OF, (json.dumps([user_id]),)) as cur:
                    load = sum(int(r[2]) for r in await cur.fetchall())
                if load >= capacity:
                    raise Conflict(f"user {user_id} is at capacity ({capacity})")
            await db.execute(q.ASSIGN, (user_id, _ts(now), conv.id))
            await self._event(
                db,
                "conversation_assigned",
                now,
                actor_id=actor_id,
                conversation_id=conv.id,
                data={"user_id": user_id, "from_user_id": conv.assignee_id},
            )
            async with db.execute(q.GET_CONVERSATION, (conv.id,)) as cur:
                row = await cur.fetchone()
            assert row is not None
            return rows.conversation(row, _parse)

    async def close(
        self, conversation_id: ConversationId, *, actor_id: UserId, now: datetime
    ) -> Conversation:
        async with self._tx() as db:
            conv = await self._open_conversation(db, conversation_id)
            await db.execute(q.CLOSE, (_ts(now), _ts(now), conv.id))
            await self._event(
                db, "conversation_closed", now, actor_id=actor_id, conversation_id=conv.id
            )
            async with db.execute(q.GET_CONVERSATION, (conv.id,)) as cur:
                row = await cur.fetchone()
            assert row is not None
            return rows.conversation(row, _parse)

    async def consulter_history(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        limit: int = 200,
        before: MessageId | None = None,
    ) -> list[Message]:
        found = await self._all(q.CONSULTER_HISTORY, (channel, identity_hash, limit, before))
        return [rows.message(r, _parse) for r in reversed(found)]
