"""The PostgresStore methods that run functions of postgres_routing, postgres_policies or
postgres_mail in one transaction (mirrors sqlite_delegates): routing and supervision,
policies and the mail channel's state."""

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
from storage.postgres import mail as pm
from storage.postgres import routing as pr
from storage.postgres import sql as q
from storage.postgres.base import PostgresBase
from storage.postgres.pool import translated
from storage.routing_rows import agents_from_rows, channel_loads, waiting_from_rows
from storage.rows import parse_native_time as _parse


class PostgresDelegates(PostgresBase):
    # ---- routing ------------------------------------------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        # One snapshot for both queries, so loads and the queue describe the same moment.
        with translated():
            async with (
                self.pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                waiting = await conn.fetch(q.WAITING, pr.ROUTING_PAGE)
                agents = await conn.fetch(q.AGENTS)
                loads = channel_loads(await conn.fetch(q.CHANNEL_LOADS))
        return RoutingSnapshot(
            waiting=waiting_from_rows(waiting, _parse),
            agents=agents_from_rows(agents, loads, _parse),
        )

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        if not assigns:
            return []
        async with self._tx() as conn:
            return await pr.apply_assignments(conn, assigns, now)

    async def update_counselor(
        self, user_id: UserId, change: CounselorUpdate, *, actor_id: UserId, now: datetime
    ) -> User:
        async with self._tx() as conn:
            row = await pr.update_counselor(conn, user_id, change, actor_id, now)
        return rows.user(row, _parse)

    async def mark_opened(
        self, conversation_id: ConversationId, user_id: UserId, *, now: datetime
    ) -> bool:
        async with self._tx() as conn:
            return await pr.mark_opened(conn, conversation_id, user_id, now)

    async def requeue_lapsed_offers(
        self, *, offered_before: datetime, now: datetime, limit: int = 500
    ) -> list[tuple[ConversationId, UserId]]:
        async with self._tx() as conn:
            return await pr.requeue_lapsed_offers(conn, offered_before, now, limit)

    async def requeue(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        note: str | None = None,
    ) -> Conversation:
        async with self._tx() as conn:
            row = await pr.requeue(conn, conversation_id, actor_id, note, now)
        return rows.conversation(row, _parse)

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        async with self._tx() as conn:
            await pr.set_channel_paused(conn, channel, paused, actor_id, now)

    async def paused_channels(self) -> frozenset[ChannelKind]:
        async with self._tx() as conn:
            return await pr.paused_channels(conn)

    async def queue_depth(self) -> list[QueueDepth]:
        async with self._tx() as conn:
            return await pr.queue_depth(conn)

    # ---- mail channel state -------------------------------------------------------------
    async def mail_cursor(self, mailbox: str) -> MailCursor | None:
        async with self._tx() as conn:
            return await pm.mail_cursor(conn, mailbox)

    async def save_mail_cursor(self, mailbox: str, cursor: MailCursor, *, now: datetime) -> None:
        async with self._tx() as conn:
            await pm.save_mail_cursor(conn, mailbox, cursor, now)

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None:
        async with self._tx() as conn:
            return await pm.mail_thread(conn, conversation_id)

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None:
        if threads:
            async with self._tx() as conn:
                await pm.save_mail_threads(conn, threads, now)
