"""The outbox on SQLite: claiming due replies with a lease, recording how sending went, and
bounces found out later (sqlite_mail); the SqliteStore methods, each in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite

from inbox.core.errors import NotFound
from inbox.core.model import DeliveryStatus, MessageId, OutboxId, OutboxItem
from storage import rows
from storage.rows import format_text_time as _ts
from storage.rows import parse_text_time as _parse
from storage.sqlite import mail as sm
from storage.sqlite import sql as q
from storage.sqlite.base import SqliteBase


class SqliteOutbox(SqliteBase):
    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        async with self._tx() as db:
            async with db.execute(q.DUE_OUTBOX, (_ts(now), limit)) as cur:
                due = [int(r[0]) for r in await cur.fetchall()]
            if not due:
                return []
            until = _ts(now + timedelta(seconds=lease_s))
            await db.execute(q.CLAIM_OUTBOX, (until, _ts(now), json.dumps(due)))
            async with db.execute(q.OUTBOX_ITEMS, (json.dumps(due),)) as cur:
                found = await cur.fetchall()
        return [rows.outbox_item(r) for r in found]

    async def _outbox_message(self, db: aiosqlite.Connection, outbox_id: OutboxId) -> int:
        async with db.execute(q.OUTBOX_MESSAGE, (outbox_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")
        return int(row[0])

    async def mark_sent(self, outbox_id: OutboxId, *, provider_id: str, now: datetime) -> None:
        async with self._tx() as db:
            mid = await self._outbox_message(db, outbox_id)
            await db.execute(q.MARK_SENT, (provider_id, _ts(now), outbox_id))
            await db.execute(q.SET_DELIVERY, (DeliveryStatus.SENT, provider_id, mid))
            await self._event(
                db,
                "reply_sent",
                now,
                message_id=mid,
                conversation_id=await self._conversation_of(db, mid),
            )

    async def _conversation_of(self, db: aiosqlite.Connection, message_id: int) -> int:
        async with db.execute(
            "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        async with self._tx() as db:
            await self._outbox_message(db, outbox_id)
            await db.execute(q.MARK_RETRY, (_ts(retry_at), error, _ts(now), outbox_id))

    async def mark_failed(self, outbox_id: OutboxId, *, error: str, now: datetime) -> None:
        async with self._tx() as db:
            mid = await self._outbox_message(db, outbox_id)
            await db.execute(q.MARK_FAILED, (error, _ts(now), outbox_id))
            await db.execute(q.SET_DELIVERY, (DeliveryStatus.FAILED, None, mid))
            await self._event(
                db,
                "reply_failed",
                now,
                message_id=mid,
                conversation_id=await self._conversation_of(db, mid),
                data={"error": error},
            )

    async def next_outbox_due(self) -> datetime | None:
        (row,) = await self._all(q.NEXT_DUE)
        return None if row[0] is None else _parse(row[0])

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        if not provider_ids:
            return []
        return await self._on_db_thread(
            lambda db: sm.mark_bounced(db, provider_ids, now), write=True
        )
