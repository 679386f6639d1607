"""The SqliteStore methods that run one function of sqlite_routing, sqlite_policies or
sqlite_mail as ONE call on aiosqlite's thread, inside its transaction (see
SqliteStore._on_db_thread): routing and supervision, policies and the mail channel's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.model import (
    Anonymity,
    Assign,
    AwaitingAnswer,
    ChannelKind,
    ContactAddress,
    ContactFacts,
    Conversation,
    ConversationId,
    CounselorUpdate,
    DeadlineChange,
    LastArrival,
    Message,
    QueueDepth,
    RoutingSnapshot,
    User,
    UserId,
)
from storage import rows
from storage.rows import parse_text_time as _parse
from storage.sqlite import policies as sp
from storage.sqlite import routing as sr
from storage.sqlite import sql as q
from storage.sqlite.base import SqliteBase


class SqliteDelegates(SqliteBase):
    # ---- routing ------------------------------------------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        # One read transaction, so loads and the queue describe the same moment.
        return await self._on_db_thread(sr.routing_snapshot, write=False)

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        if not assigns:
            return []
        # Holding the write transaction, nobody can change loads between the check and the write.
        return await self._on_db_thread(
            lambda db: sr.apply_assignments(db, assigns, now), write=True
        )

    async def update_counselor(
        self, user_id: UserId, change: CounselorUpdate, *, actor_id: UserId, now: datetime
    ) -> User:
        row = await self._on_db_thread(
            lambda db: sr.update_counselor(db, user_id, change, actor_id, now), write=True
        )
        return rows.user(row, _parse)

    async def mark_opened(
        self, conversation_id: ConversationId, user_id: UserId, *, now: datetime
    ) -> bool:
        return await self._on_db_thread(
            lambda db: sr.mark_opened(db, conversation_id, user_id, now), write=True
        )

    async def requeue_lapsed_offers(
        self, *, offered_before: datetime, now: datetime, limit: int = 500
    ) -> list[tuple[ConversationId, UserId]]:
        return await self._on_db_thread(
            lambda db: sr.requeue_lapsed_offers(db, offered_before, now, limit), write=True
        )

    async def requeue(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        note: str | None = None,
    ) -> Conversation:
        row = await self._on_db_thread(
            lambda db: sr.requeue(db, conversation_id, actor_id, note, now), write=True
        )
        return rows.conversation(row, _parse)

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        await self._on_db_thread(
            lambda db: sr.set_channel_paused(db, channel, paused, actor_id, now), write=True
        )

    async def paused_channels(self) -> frozenset[ChannelKind]:
        return await self._on_db_thread(sr.paused_channels, write=False)

    async def queue_depth(self) -> list[QueueDepth]:
        return await self._on_db_thread(sr.queue_depth, write=False)

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
