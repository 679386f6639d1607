"""The SqliteStore methods that run one function of sqlite_routing, sqlite_policies or
sqlite_mail as ONE call on aiosqlite's thread, inside its transaction (see
SqliteStore._on_db_thread): routing and supervision, policies and the mail channel's state."""

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
from storage.rows import parse_text_time as _parse
from storage.sqlite import policies as sp
from storage.sqlite import sql as q
from storage.sqlite.base import SqliteBase


class SqliteDelegates(SqliteBase):
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
        message_id = await self._on_db_thread(
            lambda db: sp.claim_auto_reply(db, conversation_id, kind, body, discreet_body, now),
            write=True,
        )
        if message_id is None:
            return None
        sql = f"SELECT {q.MESSAGE_COLUMNS} FROM messages WHERE id = ?"
        return rows.message((await self._all(sql, (message_id,)))[0], _parse)

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        await self._on_db_thread(
            lambda db: sp.set_discretion(db, conversation_id, discretion, actor_id, now),
            write=True,
        )

    async def contact_facts(
        self, identities: Sequence[tuple[ChannelKind, str]]
    ) -> dict[tuple[ChannelKind, str], ContactFacts]:
        if not identities:
            return {}
        return await self._on_db_thread(lambda db: sp.contact_facts(db, identities), write=False)

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        return await self._on_db_thread(
            lambda db: sp.contact_address(db, conversation_id), write=False
        )

    async def set_anonymity(
        self,
        conversation_id: ConversationId,
        mode: Anonymity | None,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> None:
        await self._on_db_thread(
            lambda db: sp.set_anonymity(db, conversation_id, mode, actor_id, now), write=True
        )

    async def due_rule_replies(self, *, since: datetime) -> list[LastArrival]:
        return await self._on_db_thread(lambda db: sp.due_rule_replies(db, since), write=False)

    async def unreplied_arrivals(self, kind: str, *, since: datetime) -> list[LastArrival]:
        return await self._on_db_thread(
            lambda db: sp.unreplied_arrivals(db, kind, since), write=False
        )

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        return await self._on_db_thread(lambda db: sp.recent_handling_s(db, limit), write=False)

    async def awaiting_answers(self, *, limit: int = 2000) -> list[AwaitingAnswer]:
        return await self._on_db_thread(lambda db: sp.awaiting_answers(db, limit), write=False)

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        if not changes:
            return []
        return await self._on_db_thread(
            lambda db: sp.apply_deadlines(db, changes, urgent_priority, now), write=True
        )
