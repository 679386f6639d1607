"""PostgresStore: the Store for several instances on one PostgreSQL, on an asyncpg pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from inbox.core.decisions import Assign, RoutingSnapshot
from inbox.core.errors import Conflict
from inbox.core.model import StoredInbound
from storage.base import FeedCursor, FeedPage, IntakeRouter, KeyedInbound
from storage.postgres import feed, lease, listen
from storage.postgres import routing as postgres_routing
from storage.postgres.database import INTAKE, INTAKE_CONNECTIONS, TAIL, PgDatabase
from storage.postgres.intake import save_inbound_batch
from storage.postgres.pool import RETRYABLE, describe_url, translated
from storage.postgres.schema import migrate_one
from storage.postgres.threads import BatchRaced
from storage.store import SqlStore

# A unique violation means another instance committed the same identity, conversation or
# message meanwhile; the retry sees its rows. Deadlocks between two batches resolve the same way,
# and so does a conversation that a reply joined by its hint being closed meanwhile.
INTAKE_ATTEMPTS = 5


class PostgresStore(SqlStore):
    """Store on a PostgreSQL database (storage.postgres.database); any number of processes
    may share it. Here: what PostgreSQL does by hand (storage.store.SqlStore has the rest)."""

    _db: PgDatabase
    _dialect = "postgres"
    intake_writers = INTAKE_CONNECTIONS

    def __init__(
        self,
        url: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        connect_timeout_s: float = 10.0,
        command_timeout_s: float | None = None,
    ) -> None:
        self._db = PgDatabase(
            url,
            pool_min=pool_min,
            pool_max=pool_max,
            connect_timeout_s=connect_timeout_s,
            command_timeout_s=command_timeout_s,
        )
        self.instance = self._db.instance  # its connections' application_name

    def __repr__(self) -> str:
        return f"PostgresStore({describe_url(self._db.url)!r})"

    @property
    def pool(self) -> Any:
        """The asyncpg pool, for tests and benchmarks that read the database directly."""
        return self._db.pool

    async def listen(
        self,
        on_change: Callable[[bool], None],
        on_arrival: Callable[[int, datetime], None] | None = None,
    ) -> None:
        await listen.listen(
            self._db.url,
            self.instance,
            on_change,
            connect_timeout_s=self._db.connect_timeout_s,
            on_arrival=on_arrival,
        )

    async def lead_router(self, leading: asyncio.Event) -> None:
        await lease.lead(
            self._db.url, self.instance, leading, connect_timeout_s=self._db.connect_timeout_s
        )

    # ---- schema -------------------------------------------------------------------------
    async def migrate(self) -> list[int]:
        applied: list[int] = []
        with translated():
            async with self.pool.acquire() as conn:
                while (version := await migrate_one(conn)) is not None:
                    applied.append(version)
        return applied

    # ---- intake -------------------------------------------------------------------------
    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        if not items:
            return []
        with translated():
            for attempt in range(1, INTAKE_ATTEMPTS + 1):
                try:
                    async with self._db.own_pool(INTAKE).acquire() as conn, conn.transaction():
                        return await save_inbound_batch(conn, items, router)
                except (*RETRYABLE, BatchRaced) as exc:
                    if attempt == INTAKE_ATTEMPTS:
                        raise Conflict(
                            f"inbound batch of {len(items)} still collided with concurrent "
                            f"writers after {attempt} attempts; the source should redeliver"
                        ) from exc
        raise AssertionError("unreachable")

    # ---- routing: the router's two, hand-written ----------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        # One snapshot for all three queries, so loads and the queue describe the same moment.
        with translated():
            async with (
                self.pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                snapshot: RoutingSnapshot = await postgres_routing.routing_snapshot(conn)
        return snapshot

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        if not assigns:
            return []
        async with self._db.transaction() as conn:
            return await postgres_routing.apply_assignments(conn, assigns, now)

    # ---- the live tail of events --------------------------------------------------------
    async def feed_start(self) -> FeedCursor:
        return await self._db.read(feed.feed_start, own=TAIL)

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        return await self._db.read(lambda tx: feed.feed_events(tx, after, limit), own=TAIL)
