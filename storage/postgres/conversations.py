"""Conversations and messages on PostgreSQL: reading them, replies, notes, assigning and
closing; the PostgresStore methods, each in one statement or transaction on the pool."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    ConversationStatus,
    Message,
    MessageId,
    UserId,
)
from storage import rows
from storage.postgres import sql as q
from storage.postgres.base import PostgresBase, event_json
from storage.rows import parse_native_time as _parse


class PostgresConversations(PostgresBase):
    async def get_conversation(self, conversation_id: ConversationId) -> Conversation:
        row = await self._fetchrow(q.GET_CONVERSATION, conversation_id)
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return rows.conversation(row, _parse)

    async def list_conversations(
        self,
        *,
        statuses: Collection[ConversationStatus],
        visible_to: UserId | None = None,
        channels: Collection[ChannelKind] | None = None,
        limit: int = 200,
    ) -> list[Conversation]:
        found = await self._fetch(
            q.LIST_CONVERSATIONS,
            [str(s) for s in statuses],
            visible_to,
            None if channels is None else [str(c) for c in channels],
            limit,
        )
        return [rows.conversation(r, _parse) for r in found]

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        await self.get_conversation(conversation_id)
        found = await self._fetch(q.LIST_MESSAGES, conversation_id, include_notes, limit)
        return [rows.message(r, _parse) for r in found]

    async def get_message(self, message_id: MessageId) -> Message:
        row = None
        if rows.id_fits(message_id):  # an id from a URL may exceed the column
            row = await self._fetchrow(q.GET_MESSAGE, message_id)
        if row is None:
            raise NotFound(f"message {message_id} does not exist")
        return rows.message(row, _parse)

    async def add_reply(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async with self._tx() as conn:
            conv = await _lock_open_conversation(conn, conversation_id)
            row = await conn.fetchrow(q.ADD_REPLY, conv.id, conv.channel, body, author_id, now)
        return rows.message(row, _parse)

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        row = await self._fetchrow(q.ADD_NOTE, conversation_id, body, author_id, now)
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return rows.message(row, _parse)

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
    ) -> Conversation:
        async with self._tx() as conn:
            # The counselor before the conversation, in the same order as apply_assignments.
            counselor = await conn.fetchval(q.LOCK_COUNSELOR, user_id)
            conv = await _lock_open_conversation(conn, conversation_id)
            if counselor is None:
                raise Conflict(f"user {user_id} is not an enabled counselor")
            if (
                capacity is not None
                and conv.assignee_id != user_id
                and await conn.fetchval(q.LOAD_OF, user_id) >= capacity
            ):
                raise Conflict(f"user {user_id} is at capacity ({capacity})")
            data = event_json({"user_id": user_id, "from_user_id": conv.assignee_id})
            row = await conn.fetchrow(q.ASSIGN, conv.id, user_id, now, actor_id, data)
        return rows.conversation(row, _parse)

    async def close(
        self, conversation_id: ConversationId, *, actor_id: UserId, now: datetime
    ) -> Conversation:
        async with self._tx() as conn:
            conv = await _lock_open_conversation(conn, conversation_id)
            row = await conn.fetchrow(q.CLOSE, conv.id, now, actor_id)
        return rows.conversation(row, _parse)

    async def consulter_history(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        limit: int = 200,
        before: MessageId | None = None,
    ) -> list[Message]:
        found = await self._fetch(q.CONSULTER_HISTORY, str(channel), identity_hash, limit, before)
        return [rows.message(r, _parse) for r in reversed(found)]


async def _lock_open_conversation(conn: Any, conversation_id: ConversationId) -> Conversation:
    row = await conn.fetchrow(q.LOCK_CONVERSATION, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    conv = rows.conversation(row, _parse)
    if conv.status is ConversationStatus.CLOSED:
        raise Conflict(f"conversation {conversation_id} is closed")
    return conv
