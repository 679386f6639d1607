"""PostgresStore: the Store for several instances on one PostgreSQL, on an asyncpg pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Self

from inbox.core.errors import Conflict, DatabaseUnavailable, SchemaMismatch, StorageError
from inbox.core.model import Assign, RoutingSnapshot, StoredInbound
from storage import rows
from storage.accounts import Accounts
from storage.assignment import Assignment
from storage.attachments import Attachments
from storage.base import SCHEMA_VERSION, FeedCursor, FeedPage, IntakeRouter, KeyedInbound
from storage.deadlines import Deadlines
from storage.desk import Desk
from storage.events import Events
from storage.mail_state import Mail
from storage.outbox import Outbox
from storage.policies import Policies
from storage.postgres import listen as postgres_listen
from storage.postgres import routing as postgres_routing
from storage.postgres import sql as q
from storage.postgres.database import PgDatabase
from storage.postgres.intake import save_inbound_batch
from storage.postgres.pool import (
    RETRYABLE,
    describe_url,
    translated,
)
from storage.postgres.schema import MIGRATIONS
from storage.postgres.threads import BatchRaced

_parse = rows.parse_native_time
# A unique violation means another instance committed the same identity, conversation or
# message meanwhile; the retry sees its rows. Deadlocks between two batches resolve the same way,
# and so does a conversation that a reply joined by its hint being closed meanwhile.
INTAKE_ATTEMPTS = 5
MIGRATION_TIMEOUT_S = 3600.0


class PostgresStore(
    Accounts,
    Assignment,
    Events,
    Outbox,
    Mail,
    Desk,
    Attachments,
    Policies,
    Deadlines,
):
    """Store on a PostgreSQL database (storage.postgres.database); any number of processes
    may share it.

    Here: schema, intake and the live tail of events; the operations both stores share come
    from the area classes (storage.accounts, ...), over `_db`."""

    _db: PgDatabase

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
        self.instance = self._db.instance

    def __repr__(self) -> str:
        return f"PostgresStore({describe_url(self._db.url)!r})"

    async def __aenter__(self) -> Self:
        await self._db.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._db.close()

    @property
    def pool(self) -> Any:
        return self._db.pool

    def _tx(self) -> AbstractAsyncContextManager[Any]:
        return self._db.transaction()

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        with translated():
            return list(await self.pool.fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        with translated():
            return await self.pool.fetchrow(sql, *args)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        with translated():
            return await self.pool.fetchval(sql, *args)

    async def listen(self, on_change: Callable[[bool], None]) -> None:
        await postgres_listen.listen(
            self._db.url, self.instance, on_change, connect_timeout_s=self._db.connect_timeout_s
        )

    # ---- schema -------------------------------------------------------------------------
    async def schema_version(self) -> int:
        if not await self._fetchval(q.HAS_SCHEMA_MIGRATIONS):
            return 0
        return int(await self._fetchval(q.CURRENT_VERSION))

    async def migrate(self) -> list[int]:
        applied: list[int] = []
        with translated():
            async with self.pool.acquire() as conn:
                while (version := await _migrate_one(conn)) is not None:
                    applied.append(version)
        return applied

    async def ping(self) -> None:
        try:
            await self._fetchval("SELECT 1")
        except StorageError as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    # ---- intake -------------------------------------------------------------------------
    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        if not items:
            return []
        with translated():
            for attempt in range(1, INTAKE_ATTEMPTS + 1):
                try:
                    async with self.pool.acquire() as conn, conn.transaction():
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

    # ---- events -------------------------------------------------------------------------
    async def feed_start(self) -> FeedCursor:
        return FeedCursor(seen=str(await self._fetchval(q.FEED_START)))

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        since_xmax = max((after.tx, after.id), (_snapshot_xmax(after.seen), 0))
        found = await self._fetch(
            q.FEED_EVENTS,
            after.seen,
            after.upto or None,
            str(after.tx),
            after.id,
            limit,
            str(since_xmax[0]),
            since_xmax[1],
        )
        events = [rows.event(r, _parse) for r in found if r[0] is not None]
        upto = found[0][8]
        if len(events) < limit:  # the step is read: its snapshot is what has been seen
            return FeedPage(events, FeedCursor(seen=upto))
        return FeedPage(
            events, FeedCursor(seen=after.seen, upto=upto, tx=found[-1][7], id=events[-1].id)
        )


def _snapshot_xmax(snapshot: str) -> int:
    """The xmax of a pg_snapshot's text, xmin:xmax:xip,...: every later transaction is news."""
    return int(snapshot.split(":")[1])


async def _migrate_one(conn: Any) -> int | None:
    """Apply the next pending migration in its own transaction; None when none is pending."""
    async with conn.transaction():
        # Held until commit: a second process migrating now waits here, then sees our version.
        await conn.execute(q.LOCK_MIGRATIONS, q.MIGRATION_LOCK_KEY, timeout=MIGRATION_TIMEOUT_S)
        await conn.execute(q.CREATE_SCHEMA_MIGRATIONS)
        current = int(await conn.fetchval(q.CURRENT_VERSION))
        if current > SCHEMA_VERSION:
            raise SchemaMismatch(
                f"the database schema is version {current}, newer than this code "
                f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
            )
        if current == SCHEMA_VERSION:
            return None
        version = current + 1
        # no arguments: the simple protocol runs scripts; an index over a large table may take
        # far longer than database.command_timeout_s allows a statement
        await conn.execute(MIGRATIONS[version], timeout=MIGRATION_TIMEOUT_S)
        await conn.execute(q.RECORD_MIGRATION, version)
        return version
