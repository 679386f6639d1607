"""The outbox on PostgreSQL: claiming due replies with a lease, recording how sending went, and
bounces found out later (postgres_mail); the PostgresStore methods, each in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from inbox.core.errors import NotFound
from inbox.core.model import MessageId, OutboxId, OutboxItem
from storage import rows
from storage.postgres import mail as pm
from storage.postgres import sql as q
from storage.postgres.base import PostgresBase
from storage.rows import parse_native_time as _parse


class PostgresOutbox(PostgresBase):
    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        until = now + timedelta(seconds=lease_s)
        found = await self._fetch(q.CLAIM_OUTBOX, now, limit, until)
        return [rows.outbox_item(r) for r in found]

    async def mark_sent(self, outbox_id: OutboxId, *, provider_id: str, now: datetime) -> None:
        if await self._fetchval(q.MARK_SENT, outbox_id, provider_id, now) is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        if await self._fetchval(q.MARK_RETRY, outbox_id, retry_at, error, now) is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def mark_failed(self, outbox_id: OutboxId, *, error: str, now: datetime) -> None:
        if await self._fetchval(q.MARK_FAILED, outbox_id, error, now) is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def next_outbox_due(self) -> datetime | None:
        found = await self._fetchval(q.NEXT_DUE)
        return None if found is None else _parse(found)

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        if not provider_ids:
            return []
        async with self._tx() as conn:
            return await pm.mark_bounced(conn, provider_ids, now)
