"""The PostgresStore methods that run functions of postgres_routing, postgres_policies or
postgres_mail in one transaction (mirrors sqlite_delegates): routing and supervision,
policies and the mail channel's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.model import (
    Anonymity,
    AwaitingAnswer,
    ChannelKind,
    ContactAddress,
    ContactFacts,
    ConversationId,
    DeadlineChange,
    LastArrival,
    Message,
    UserId,
)
from storage import rows
from storage.postgres import policies as pp
from storage.postgres import sql as q
from storage.postgres.base import PostgresBase
from storage.rows import parse_native_time as _parse


class PostgresDelegates(PostgresBase):
    # ---- policies -----------------------------------------------------------------------
    async def claim_auto_reply(
        self,
        conversation_id: ConversationId,
        kind: str,
        *,
        body: str,
        discreet_body: str,
        now: datetime,
    ) -> Message | None:
        async with self._tx() as conn:
            message_id = await pp.claim_auto_reply(
                conn, conversation_id, kind, body, discreet_body, now
            )
            if message_id is None:
                return None
            sql = f"SELECT {q.MESSAGE_COLUMNS} FROM messages WHERE id = $1"
            row = await conn.fetchrow(sql, message_id)
        return rows.message(row, _parse)

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        async with self._tx() as conn:
            await pp.set_discretion(conn, conversation_id, discretion, actor_id, now)

    async def contact_facts(
        self, identities: Sequence[tuple[ChannelKind, str]]
    ) -> dict[tuple[ChannelKind, str], ContactFacts]:
        if not identities:
            return {}
        async with self._tx() as conn:
            return await pp.contact_facts(conn, identities)

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        async with self._tx() as conn:
            return await pp.contact_address(conn, conversation_id)

    async def set_anonymity(
        self,
        conversation_id: ConversationId,
        mode: Anonymity | None,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> None:
        async with self._tx() as conn:
            await pp.set_anonymity(conn, conversation_id, mode, actor_id, now)

    async def due_rule_replies(self, *, since: datetime) -> list[LastArrival]:
        async with self._tx() as conn:
            return await pp.due_rule_replies(conn, since)

    async def unreplied_arrivals(self, kind: str, *, since: datetime) -> list[LastArrival]:
        async with self._tx() as conn:
            return await pp.unreplied_arrivals(conn, kind, since)

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        async with self._tx() as conn:
            return await pp.recent_handling_s(conn, limit)

    async def awaiting_answers(self, *, limit: int = 2000) -> list[AwaitingAnswer]:
        async with self._tx() as conn:
            return await pp.awaiting_answers(conn, limit)

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        if not changes:
            return []
        async with self._tx() as conn:
            return await pp.apply_deadlines(conn, changes, urgent_priority, now)
