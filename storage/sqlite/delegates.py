"""The SqliteStore methods that run one function of sqlite_routing, sqlite_policies or
sqlite_mail as ONE call on aiosqlite's thread, inside its transaction (see
SqliteStore._on_db_thread): routing and supervision, policies and the mail channel's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.model import (
    Assign,
    ChannelKind,
    Conversation,
    ConversationId,
    CounselorUpdate,
    MailCursor,
    MailThread,
    QueueDepth,
    RoutingSnapshot,
    User,
    UserId,
)
from storage import rows
from storage.rows import parse_text_time as _parse
from storage.sqlite import mail as sm
from storage.sqlite import routing as sr
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

    # ---- mail channel state -------------------------------------------------------------
    async def mail_cursor(self, mailbox: str) -> MailCursor | None:
        return await self._on_db_thread(lambda db: sm.mail_cursor(db, mailbox), write=False)

    async def save_mail_cursor(self, mailbox: str, cursor: MailCursor, *, now: datetime) -> None:
        await self._on_db_thread(
            lambda db: sm.save_mail_cursor(db, mailbox, cursor, now), write=True
        )

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None:
        return await self._on_db_thread(lambda db: sm.mail_thread(db, conversation_id), write=False)

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None:
        if threads:
            await self._on_db_thread(lambda db: sm.save_mail_threads(db, threads, now), write=True)
